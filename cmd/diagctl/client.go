package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"
)

// Exit codes for live targets, beyond the general ones in cli.go.
const (
	exitUnreachable = 4 // connection refused, DNS failure, timeout, TLS failure
	exitAuth        = 5 // 401 or 403: token missing or wrong
	exitBusy        = 6 // the target's CPU profiler is held by someone else
)

// tokenEnv is the environment variable a bearer token may come from.
const tokenEnv = "DIAGKIT_TOKEN"

// transportOptions are the flags every command that talks to targets shares.
type transportOptions struct {
	token    string
	timeout  time.Duration
	insecure bool
}

// client talks to one or more targets: agents or plain net/http/pprof
// servers.
type client struct {
	http  *http.Client
	token string
	ua    string
}

// dialContext is the client's dialer; tests replace it to fail the way a
// DNS lookup does without sending a query.
var dialContext func(ctx context.Context, network, addr string) (net.Conn, error)

func newClient(o transportOptions) *client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if dialContext != nil {
		tr.DialContext = dialContext
	}
	tr.ResponseHeaderTimeout = 0 // a profile's headers come after its seconds
	// No transparent gzip: a body a target gzips anyway is one more layer
	// that analysis.Parse peels within its one decompression budget, rather
	// than a layer decompressed apart, with a bound of its own.
	tr.DisableCompression = true
	if o.insecure {
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the user asked
	}
	token := o.token
	if token == "" {
		token = os.Getenv(tokenEnv)
	}
	return &client{
		http:  &http.Client{Transport: tr, Timeout: 0, CheckRedirect: checkRedirect}, // timeout per request, below
		token: token,
		ua:    "diagctl/" + moduleVersion(),
	}
}

// get fetches base+path with the query, within timeout, reading at most
// limit bytes. Every failure comes back as a codedError whose exit code
// names its class.
func (c *client) get(ctx context.Context, base *url.URL, path string, query url.Values, timeout time.Duration, limit int64) (*http.Response, []byte, error) {
	u := *base
	u.Path = strings.TrimSuffix(base.Path, "/") + path
	u.RawQuery = query.Encode()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, nil, &codedError{exitError, err}
	}
	req.Header.Set("User-Agent", c.ua)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var re *redirectError
		if errors.As(err, &re) {
			return nil, nil, &codedError{exitError, fmt.Errorf("%s: %v", redactURLs(u.String()), re)}
		}
		return nil, nil, transportError(u.Host, timeout, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return resp, nil, &codedError{exitUnreachable, fmt.Errorf("timed out after %v reading the response from %s", timeout, u.Host)}
		}
		return resp, nil, &codedError{exitError, fmt.Errorf("reading the response from %s: %v (truncated?)", u.Host, err)}
	}
	if int64(len(body)) > limit {
		return resp, nil, &codedError{exitError, fmt.Errorf("%s answered with more than %d MiB: not a profile", redactURLs(u.String()), limit>>20)}
	}
	return resp, body, nil
}

// maxRedirects is how many redirects a request follows, as net/http's default.
const maxRedirects = 10

// redirectError is a redirect checkRedirect refused.
type redirectError struct {
	to  *url.URL
	why string
}

func (e *redirectError) Error() string {
	return fmt.Sprintf("redirected to %s: not followed: %s", redactURLs(e.to.String()), e.why)
}

// checkRedirect is the client's redirect policy. A redirect is followed
// within the target only: to the same scheme, host and port, or from http to
// https on the same host. diagctl refuses the others (the request fails,
// exit 1) rather than follow them without credentials: a redirect from https
// to plain http would carry the bearer token in clear (net/http keeps the
// Authorization header for the same host, whatever the scheme and port), one
// to another host, or from a loopback target to another address, would hand
// that host the token (net/http keeps it for a subdomain) or read another
// process than the one named. The user can name the new URL as the target.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return &redirectError{req.URL, fmt.Sprintf("stopped after %d redirects", maxRedirects)}
	}
	orig, prev, to := via[0].URL, via[len(via)-1].URL, req.URL
	switch {
	case to.Scheme != "http" && to.Scheme != "https":
		return &redirectError{to, "diagctl only speaks http and https"}
	case (orig.Scheme == "https" || prev.Scheme == "https") && to.Scheme == "http":
		return &redirectError{to, "from https to plain http, which would send the token in clear; " +
			"give the http URL as the target if you mean it"}
	case !strings.EqualFold(orig.Hostname(), to.Hostname()):
		what := "another host"
		if isLoopback(orig.Hostname()) && !isLoopback(to.Hostname()) {
			what = "another host, off this machine"
		}
		return &redirectError{to, "to " + what + " than the target's, which diagctl sends no token or credentials to; " +
			"give that URL as the target if you trust it"}
	case portOf(orig) != portOf(to) && !(orig.Scheme == "http" && to.Scheme == "https"):
		return &redirectError{to, "to another port than the target's, which diagctl sends no token or credentials to; " +
			"give that URL as the target if you trust it"}
	}
	return nil
}

// portOf is u's port, the scheme's default if it names none.
func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "https" {
		return "443"
	}
	return "80"
}

// isLoopback reports whether host names this machine: "localhost" or a
// loopback address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// transportError classifies a failed request.
func transportError(host string, timeout time.Duration, err error) error {
	var dnsErr *net.DNSError
	var tlsErr *tls.CertificateVerificationError
	switch {
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return &codedError{exitUnreachable, fmt.Errorf("%s: no answer within %v (timeout; raise --timeout?)", host, timeout)}
	case errors.As(err, &dnsErr):
		return &codedError{exitUnreachable, fmt.Errorf("%s: cannot resolve host %q: %v", host, dnsErr.Name, dnsErr.Err)}
	case errors.Is(err, syscall.ECONNREFUSED):
		return &codedError{exitUnreachable, fmt.Errorf("%s: connection refused: nothing listens there (is the agent running, on this port?)", host)}
	case errors.As(err, &tlsErr):
		return &codedError{exitUnreachable, fmt.Errorf("%s: TLS certificate not trusted: %v (--insecure skips the check)", host, tlsErr.Err)}
	case errors.Is(err, context.Canceled):
		return &codedError{exitError, fmt.Errorf("%s: interrupted", host)}
	}
	return &codedError{exitUnreachable, fmt.Errorf("%s: %v", host, err)}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// statusError classifies a non-200 answer. what names the resource asked for.
func statusError(u string, resp *http.Response, body []byte, what string) error {
	text := strings.TrimSpace(string(body))
	if len(text) > 200 {
		cut := 200
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut-- // not in the middle of a character
		}
		text = text[:cut] + "…"
	}
	if isHTML(resp) {
		text = "an HTML page"
	}
	switch code := resp.StatusCode; {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		hint := "pass --token or set " + tokenEnv
		if resp.Header.Get("Authorization") == "" && code == http.StatusForbidden {
			hint = "the token was refused"
		}
		return &codedError{exitAuth, fmt.Errorf("%s: %s: not authorized (%s)", u, resp.Status, hint)}
	case code == http.StatusNotFound:
		return &codedError{exitError, fmt.Errorf("%s: 404: no %s there (is this a Go server with net/http/pprof or the diagkit agent, and the right prefix?)", u, what)}
	case code == http.StatusTooManyRequests:
		retry := ""
		if ra := resp.Header.Get("Retry-After"); ra != "" {
			retry = " after " + ra + " s"
		}
		return &codedError{exitBusy, fmt.Errorf("%s: 429: the target is serving as many profiles as it allows (MaxConcurrentProfiles); retry%s", u, retry)}
	case isTracerBusy(text):
		return &codedError{exitBusy, fmt.Errorf("%s: the target's execution tracer is busy (another trace is running): %s; retry later", u, firstLine(text))}
	case isBusy(code, text):
		return &codedError{exitBusy, fmt.Errorf("%s: the target's CPU profiler is busy (someone else is profiling it): %s; retry later", u, text)}
	case code == http.StatusBadGateway || code == http.StatusServiceUnavailable || code == http.StatusGatewayTimeout:
		// A proxy in front of the target could not reach it.
		return &codedError{exitUnreachable, fmt.Errorf("%s: %s: the target (or a proxy in front of it) is unreachable or overloaded: %s", u, resp.Status, text)}
	}
	return &codedError{exitError, fmt.Errorf("%s: %s: %s", u, resp.Status, text)}
}

// isBusy recognizes "profiler in use" from the agent (503) and from
// net/http/pprof, which answers 500 "Could not enable CPU profiling: cpu
// profiling already in use".
func isBusy(code int, text string) bool {
	return code == http.StatusServiceUnavailable && strings.Contains(text, "profiler") ||
		strings.Contains(text, "already in use")
}

// isTracerBusy recognizes "another trace is running" from net/http/pprof
// (500) and from the agent (503).
func isTracerBusy(text string) bool {
	return strings.Contains(text, "Could not enable tracing") || strings.Contains(text, "tracing is already enabled")
}

func isHTML(resp *http.Response) bool {
	return strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html")
}

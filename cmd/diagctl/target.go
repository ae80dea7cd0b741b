package main

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
)

// defaultPort is the agent's default port, used when a target names none.
const defaultPort = "6060"

// isFileArg reports whether a preempt-share argument is a profile file rather
// than a live target: "-", an existing path, or anything that does not look
// like HOST[:PORT] or a URL.
func isFileArg(arg string) bool {
	if arg == "-" {
		return true
	}
	if _, err := os.Stat(arg); err == nil {
		return true
	}
	if strings.HasPrefix(arg, "http://") || strings.HasPrefix(arg, "https://") {
		return false
	}
	if strings.ContainsAny(arg, `/\`) || strings.HasSuffix(arg, ".pprof") || strings.HasSuffix(arg, ".gz") ||
		strings.HasSuffix(arg, ".out") || strings.HasSuffix(arg, ".pb") {
		return true
	}
	_, err := parseTarget(arg)
	return err != nil
}

// parseTarget turns HOST, HOST:PORT or an http(s) URL into the base URL the
// agent's paths hang off. A URL may carry a path prefix, for an agent mounted
// under one (http://host:8080/diagkit).
func parseTarget(arg string) (*url.URL, error) {
	if arg == "" {
		return nil, fmt.Errorf("empty target")
	}
	if strings.HasPrefix(arg, "http://") || strings.HasPrefix(arg, "https://") {
		u, err := url.Parse(arg)
		if err != nil {
			return nil, fmt.Errorf("%s: not a URL: %s", redactURLs(arg), redactURLs(err.Error()))
		}
		if u.Host == "" {
			return nil, fmt.Errorf("%s: URL has no host", redactURLs(arg))
		}
		if u.RawQuery != "" || u.Fragment != "" {
			return nil, fmt.Errorf("%s: give the base URL, without a query", redactURLs(arg))
		}
		u.Path = strings.TrimSuffix(u.Path, "/")
		u.Path = strings.TrimSuffix(u.Path, "/debug/pprof")
		return u, nil
	}
	hostPort := arg
	if _, _, err := net.SplitHostPort(arg); err != nil {
		// No port: HOST alone (an IPv6 literal needs brackets with a port).
		if strings.Contains(arg, ":") && !strings.HasPrefix(arg, "[") {
			if net.ParseIP(arg) == nil {
				return nil, fmt.Errorf("%s: not HOST[:PORT] or a URL", arg)
			}
		}
		hostPort = net.JoinHostPort(strings.Trim(arg, "[]"), defaultPort)
	}
	host, port, err := net.SplitHostPort(hostPort)
	if err != nil || port == "" || strings.ContainsAny(host, " /?#@") {
		return nil, fmt.Errorf("%s: not HOST[:PORT] or a URL", arg)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	for _, r := range port {
		if r < '0' || r > '9' {
			return nil, fmt.Errorf("%s: port %q is not a number", arg, port)
		}
	}
	return &url.URL{Scheme: "http", Host: net.JoinHostPort(host, port)}, nil
}

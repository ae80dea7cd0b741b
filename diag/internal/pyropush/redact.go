package pyropush

import (
	"net/url"
	"strings"
)

// redacted stands for what RedactURL and RedactURLs remove.
const redacted = "(redacted)"

// RedactURL returns addr fit for a log line: the user info (user name and
// password) and the query and fragment, which may hold an API key, are
// replaced by "(redacted)". An address that does not parse is
// "(invalid URL)": the parse error would quote it.
func RedactURL(addr string) string {
	u, err := url.Parse(addr)
	if err != nil {
		return "(invalid URL)"
	}
	c := *u
	c.User, c.RawQuery, c.ForceQuery, c.Fragment, c.RawFragment = nil, "", false, "", ""
	s := c.String()
	if u.User != nil {
		if i := strings.Index(s, "://"); i >= 0 {
			s = s[:i+3] + redacted + "@" + s[i+3:]
		} else {
			s = redacted + "@" + s
		}
	}
	if u.RawQuery != "" || u.ForceQuery {
		s += "?" + redacted
	}
	if u.Fragment != "" {
		s += "#" + redacted
	}
	return s
}

// RedactURLs returns msg with the user info and the query of every URL in
// it ("scheme://user:pass@host/path?query") replaced by "(redacted)": error
// messages from net/http and pyroscope-go quote the URL they failed on,
// with the user name in clear (url.Error redacts only the password).
func RedactURLs(msg string) string {
	var b strings.Builder
	for {
		i := strings.Index(msg, "://")
		if i < 0 {
			b.WriteString(msg)
			return b.String()
		}
		b.WriteString(msg[:i+3])
		rest := msg[i+3:]
		end := strings.IndexFunc(rest, urlEnd)
		if end < 0 {
			end = len(rest)
		}
		u := rest[:end]
		msg = rest[end:]
		authority, path := u, ""
		if j := strings.IndexAny(u, "/?#"); j >= 0 {
			authority, path = u[:j], u[j:]
		}
		if j := strings.LastIndexByte(authority, '@'); j >= 0 {
			authority = redacted + authority[j:]
		}
		if j := strings.IndexAny(path, "?#"); j >= 0 {
			path = path[:j+1] + redacted
		}
		b.WriteString(authority)
		b.WriteString(path)
	}
}

// urlEnd reports a rune that ends a URL quoted in a message.
func urlEnd(r rune) bool {
	return r <= ' ' || r == '"' || r == '\'' || r == '<' || r == '>' || r == '`' || r == 0x7f
}

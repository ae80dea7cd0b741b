// What diagctl prints comes in part from outside: function and file names
// from a profile, an agent's report, a server's error page, the target the
// user typed with its credentials. This file makes such text safe to show.

package main

import (
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// termSafe returns s with every character a terminal could act on written as
// a visible Go escape instead: control characters (ESC, BEL, CR, newline,
// tab...), DEL and the C1 controls (\u009b is a CSI on some terminals),
// Unicode's bidirectional overrides and line separators (which make text
// display other than it reads), and bytes that are not UTF-8. The rest is
// left alone, so that the result of termSafe is unchanged by another pass.
//
// It is the one sanitizer of diagctl's text output: the table writers run
// every value they did not write themselves through it, and so does the
// error line. JSON output needs none: encoding/json escapes control
// characters.
func termSafe(s string) string {
	return escapeControls(s, false)
}

// termSafeText is termSafe for a block of text diagctl laid out itself,
// keeping its line breaks. Values inside it should have been through
// termSafe, so that a newline of theirs shows as \n.
func termSafeText(s string) string {
	return escapeControls(s, true)
}

func escapeControls(s string, keepNewlines bool) string {
	clean := true
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if unsafeRune(r, size) && !(keepNewlines && r == '\n') {
			clean = false
			break
		}
		i += size
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case !unsafeRune(r, size) || keepNewlines && r == '\n':
			b.WriteString(s[i : i+size])
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\a':
			b.WriteString(`\a`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\v':
			b.WriteString(`\v`)
		case r < utf8.RuneSelf:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
		i += size
	}
	return b.String()
}

// unsafeRune reports whether a terminal could act on r (decoded from size
// bytes) rather than just show it.
func unsafeRune(r rune, size int) bool {
	switch {
	case r == utf8.RuneError && size == 1: // not UTF-8: a raw C1 byte to some terminals
		return true
	case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0: // C0, DEL, C1
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069: // bidi controls
		return true
	case r == 0x2028, r == 0x2029: // line and paragraph separators
		return true
	}
	return false
}

// redactURLs returns s with the credentials of every URL in it replaced:
// "https://x:TOKEN@host" becomes "https://x:xxxxx@host" (as url.URL.Redacted
// writes it), and "https://TOKEN@host", a user name alone, which may be a
// token just as well, "https://xxxxx@host". It works on any text, a URL that
// does not parse or an error message quoting one, so that no displayed
// target, URL or error shows credentials.
func redactURLs(s string) string {
	if !strings.Contains(s, "://") || !strings.Contains(s, "@") {
		return s
	}
	var b strings.Builder
	i := 0
	for {
		j := strings.Index(s[i:], "://")
		if j < 0 {
			break
		}
		start := i + j + len("://")
		end := start
		for end < len(s) && !strings.ContainsRune("/?#\"'`<> \t\r\n\\", rune(s[end])) {
			end++
		}
		b.WriteString(s[i:start])
		authority := s[start:end]
		if at := strings.LastIndexByte(authority, '@'); at >= 0 {
			b.WriteString(redactUserinfo(authority[:at]))
			authority = authority[at:]
		}
		b.WriteString(authority)
		i = end
	}
	b.WriteString(s[i:])
	return b.String()
}

func redactUserinfo(userinfo string) string {
	if user, _, ok := strings.Cut(userinfo, ":"); ok {
		return user + ":xxxxx"
	}
	return "xxxxx"
}

// endpoint is the URL of path on a target, as messages show it: without
// credentials.
func endpoint(base *url.URL, path string) string {
	return redactURLs(base.String() + path)
}

// errorText is an error as diagctl shows it: credentials redacted, control
// characters escaped.
func errorText(err error) string {
	return termSafe(redactURLs(err.Error()))
}

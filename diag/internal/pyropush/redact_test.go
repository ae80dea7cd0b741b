package pyropush

import "testing"

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://pyroscope:4040":                 "http://pyroscope:4040",
		"https://alice@host/p":                  "https://(redacted)@host/p",
		"https://alice:pw@host/p?apikey=s#frag": "https://(redacted)@host/p?(redacted)#(redacted)",
		"http://host/?apikey=SECRET":            "http://host/?(redacted)",
		"http://host/?":                         "http://host/?(redacted)",
		"http://u:p@[::1":                       "(invalid URL)",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRedactURLs(t *testing.T) {
	for in, want := range map[string]string{
		`upload profile: do http request: Post "http://alice:xxxxx@127.0.0.1:1/ingest?name=app%7B%7D&from=1": dial tcp 127.0.0.1:1: connect: connection refused`: `upload profile: do http request: Post "http://(redacted)@127.0.0.1:1/ingest?(redacted)": dial tcp 127.0.0.1:1: connect: connection refused`,
		"no URL here":                           "no URL here",
		"two: http://a@h/x and https://h2/?k=v": "two: http://(redacted)@h/x and https://h2/?(redacted)",
		"ends in http://bob@host":               "ends in http://(redacted)@host",
		"at in path http://host/a@b":            "at in path http://host/a@b",
		"'http://u@h/p#frag' quoted":            "'http://(redacted)@h/p#(redacted)' quoted",
	} {
		if got := RedactURLs(in); got != want {
			t.Errorf("RedactURLs(%q)\n = %q\nwant %q", in, got, want)
		}
	}
}

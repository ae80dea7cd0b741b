package diag

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"go.uber.org/zap"
)

// FuzzHistoryQuery sends arbitrary ?n= values to the history endpoint: it
// answers 200 with at most n windows or 400, never anything else. Seeds are
// in testdata/fuzz/FuzzHistoryQuery.
func FuzzHistoryQuery(f *testing.F) {
	a, err := Start(Config{Addr: AddrOff, Window: time.Minute, Logger: zap.NewNop()})
	if err != nil {
		f.Fatal(err)
	}
	defer a.Stop()
	h := a.Handler()
	f.Fuzz(func(t *testing.T, n string) {
		req := httptest.NewRequest("GET", PathHistory+"?n="+url.QueryEscape(n), nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		want, err := parseHistoryN(n)
		switch {
		case err != nil && rec.Code != http.StatusBadRequest:
			t.Fatalf("n=%q: %d, want 400", n, rec.Code)
		case err == nil && rec.Code != http.StatusOK:
			t.Fatalf("n=%q: %d, want 200", n, rec.Code)
		case err == nil && (want < 0 || want > maxHistoryQuery):
			t.Fatalf("n=%q parsed to %d", n, want)
		}
	})
}

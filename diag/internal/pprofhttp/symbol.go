package pprofhttp

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
)

// maxSymbolBody bounds the body of a POST to symbol.
const maxSymbolBody = 1 << 20

// serveSymbol looks up the program counters listed in the request (the raw
// query of a GET, the body of a POST, '+'-separated), responding with a table
// mapping program counters to function names, like net/http/pprof.Symbol.
func (h *handler) serveSymbol(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		// Reading and resolving up to maxSymbolBody bytes of addresses is
		// the expensive form; the GET's query is bounded by the header limit.
		release := h.acquire(w, epNamed)
		if release == nil {
			return
		}
		defer release()
	}

	// The whole request is read before any output, so buffer the output.
	var buf bytes.Buffer

	// We don't know how many symbols we have, but we do have symbol
	// information. Pprof only cares whether this number is 0 (no symbols
	// available) or > 0.
	fmt.Fprintf(&buf, "num_symbols: 1\n")

	var b *bufio.Reader
	if r.Method == http.MethodPost {
		b = bufio.NewReader(http.MaxBytesReader(w, r.Body, maxSymbolBody))
	} else {
		b = bufio.NewReader(strings.NewReader(r.URL.RawQuery))
	}

	for {
		word, err := b.ReadSlice('+')
		if err == nil {
			word = word[0 : len(word)-1] // trim +
		}
		pc, _ := strconv.ParseUint(string(word), 0, 64)
		if pc != 0 {
			if f := runtime.FuncForPC(uintptr(pc)); f != nil {
				fmt.Fprintf(&buf, "%#x %s\n", pc, f.Name())
			}
		}

		// Wait until here to check for err; the last symbol will have an
		// err because it doesn't end in +.
		if err == io.EOF {
			break
		}
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			serveError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("Request body too large: symbol accepts at most %d bytes", tooLarge.Limit))
			return
		case errors.Is(err, bufio.ErrBufferFull):
			// One word longer than the buffer: no address is that long.
			serveError(w, http.StatusBadRequest, "Malformed request: address too long")
			return
		case err != nil:
			serveError(w, http.StatusBadRequest, fmt.Sprintf("reading request: %v", err))
			return
		}
	}

	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write(buf.Bytes())
}

// Package item holds the service's HTTP middleware.
package item

import (
	"log"
	"net/http"
	"runtime/debug"
)

// Recover turns a panicking handler into a 500 response and logs the panic with its stack.
// http.ErrAbortHandler is re-raised untouched: net/http uses it to abort a response on
// purpose. If the handler had already started its response, a 500 can no longer be sent;
// the connection is aborted instead so the client cannot mistake a truncated body for a
// complete one.
func Recover(logger *log.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tw := &trackingWriter{ResponseWriter: w}
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			logger.Printf("panic serving %s %s: %v\n%s", r.Method, r.URL.Path, v, debug.Stack())
			if tw.started {
				panic(http.ErrAbortHandler)
			}
			// The details stay in the log: clients only learn that it failed.
			http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		}()
		next.ServeHTTP(tw, r)
	})
}

// trackingWriter records whether the response has started (status line or body sent).
type trackingWriter struct {
	http.ResponseWriter
	started bool
}

func (t *trackingWriter) WriteHeader(code int) {
	t.started = true
	t.ResponseWriter.WriteHeader(code)
}

func (t *trackingWriter) Write(b []byte) (int, error) {
	t.started = true
	return t.ResponseWriter.Write(b)
}

// Flush keeps streaming handlers working through the wrapper.
func (t *trackingWriter) Flush() {
	if f, ok := t.ResponseWriter.(http.Flusher); ok {
		t.started = true
		f.Flush()
	}
}

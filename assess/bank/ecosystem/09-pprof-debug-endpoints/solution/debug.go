// Package item builds the handler for the service's internal debug port.
package item

import (
	"expvar"
	"net/http"
	"net/http/pprof"
)

// NewDebugMux returns the debug port's handler: every net/http/pprof endpoint under
// /debug/pprof/ and expvar's JSON at /debug/vars. The public API uses its own mux.
//
// Importing net/http/pprof registers these on http.DefaultServeMux only; a mux of our own
// needs them explicitly. pprof.Index serves the named profiles (goroutine, heap, ...)
// under the /debug/pprof/ subtree; cmdline, profile, symbol and trace have handlers of
// their own.
func NewDebugMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.Handle("/debug/vars", expvar.Handler())
	return mux
}

// Package item builds the handler for the service's internal debug port.
package item

import (
	"net/http"
	"net/http/pprof"
)

// NewDebugMux returns the debug port's handler: every net/http/pprof endpoint under
// /debug/pprof/ and expvar's JSON at /debug/vars. The public API uses its own mux.
func NewDebugMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	return mux
}

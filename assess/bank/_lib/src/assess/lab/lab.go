// Package lab is the harness of the bank's pressure-mode labs: a lab's service (package main,
// started as `./service 127.0.0.1:PORT`) serves its handler through lab.Handler, which adds what
// the grader's driver (assess/labrun) and gocxx-pressure read from the service:
//
//	/debug/pprof/...  goroutine counts and dumps, the execution trace (net/http/pprof)
//	/lab/facts        JSON: requests served and in flight, memory statistics, the lab's own facts
//	/lab/slow?ms=N    answers after N ms (default 500): the requests in flight during the
//	                  graceful-shutdown check
//
// A service that shuts down by itself:
//
//	func main() {
//		srv := &http.Server{Addr: lab.Addr(), Handler: lab.Handler(newApp(), nil)}
//		... ListenAndServe, and on SIGTERM srv.Shutdown(ctx) before returning
//	}
//
// or, where graceful shutdown is not the lab's question, lab.Serve(lab.Handler(app, facts)).
package lab

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

// Addr is the address the grader gives the service: its first argument.
func Addr() string {
	if len(os.Args) < 2 {
		return "127.0.0.1:8080"
	}
	return os.Args[1]
}

// Facts returns the lab's own figures for /lab/facts (the grader checks some of them against
// the lab's bounds, e.g. the sum of the balances or the upstream calls still running).
type Facts func() map[string]any

// Handler serves app with the lab's endpoints beside it.
func Handler(app http.Handler, facts Facts) http.Handler {
	var served, inFlight, slowInFlight atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/lab/slow", func(w http.ResponseWriter, r *http.Request) {
		slowInFlight.Add(1)
		defer slowInFlight.Add(-1)
		ms, err := strconv.Atoi(r.URL.Query().Get("ms"))
		if err != nil || ms <= 0 {
			ms = 500
		}
		time.Sleep(time.Duration(ms) * time.Millisecond)
		w.Write([]byte("done\n"))
	})
	mux.HandleFunc("/lab/facts", func(w http.ResponseWriter, r *http.Request) {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		n := served.Load()
		out := map[string]any{
			"served": n, "in_flight": inFlight.Load(), "slow_in_flight": slowInFlight.Load(),
			"goroutines": runtime.NumGoroutine(), "num_gc": m.NumGC,
			"total_alloc_mb": float64(m.TotalAlloc) / (1 << 20), "heap_alloc_mb": float64(m.HeapAlloc) / (1 << 20),
		}
		if n > 0 {
			out["alloc_kb_per_request"] = float64(m.TotalAlloc) / 1024 / float64(n)
		}
		if facts != nil {
			for k, v := range facts() {
				out[k] = v
			}
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(out)
	})
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inFlight.Add(1)
		defer func() {
			inFlight.Add(-1)
			served.Add(1)
		}()
		app.ServeHTTP(w, r)
	}))
	return mux
}

// Serve serves h on Addr() until SIGTERM or SIGINT, then shuts down gracefully: the requests in
// flight finish (for at most 5 s) and Serve returns nil; it returns the error if the server
// cannot serve or the shutdown runs out of time.
func Serve(h http.Handler) error {
	srv := &http.Server{Addr: Addr(), Handler: h}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}

// The checklist's good Go fixture: every practice of the seed's production checklist in place.
// Run with GODEBUG=gctrace=1 and stderr in the log.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"expvar"
	"fmt"
	"net/http"
	_ "net/http/pprof"
	"os"
	"strings"
	"sync"
	"time"

	_ "fakesql"
	"fixture"
)

const requestTimeout = 3 * time.Second

var (
	db    *sql.DB
	logMu sync.Mutex
	logs  = json.NewEncoder(os.Stderr)
)

// logJSON writes one JSON line with the request's trace id ("" outside a request).
func logJSON(traceID, msg string, fields map[string]interface{}) {
	entry := map[string]interface{}{"time": time.Now().UTC().Format(time.RFC3339Nano), "level": "info", "msg": msg, "trace_id": traceID}
	for k, v := range fields {
		entry[k] = v
	}
	logMu.Lock()
	defer logMu.Unlock()
	_ = logs.Encode(entry)
}

// traceID is the trace id of a W3C traceparent header: 00-<32 hex>-<16 hex>-<2 hex>.
func traceID(r *http.Request) string {
	parts := strings.Split(r.Header.Get("Traceparent"), "-")
	if len(parts) == 4 && len(parts[1]) == 32 {
		return parts[1]
	}
	return ""
}

func withRequestTimeout(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), requestTimeout)
}

// hello pings the database within the request's bound.
func hello(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "hello")
}

// slow would take a minute; its bound (set in a helper) answers 503 after 3 s.
func slow(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := withRequestTimeout(r)
	defer cancel()
	select {
	case <-time.After(time.Minute):
		fmt.Fprintln(w, "done")
	case <-ctx.Done():
		http.Error(w, "slow: "+ctx.Err().Error(), http.StatusServiceUnavailable)
	}
}

// logged logs each request with its trace id; the handlers it delegates to bound their work.
func logged(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		next.ServeHTTP(w, r)
		logJSON(traceID(r), "request", map[string]interface{}{"method": r.Method, "path": r.URL.Path, "ms": time.Since(start).Milliseconds()})
	})
}

func main() {
	var err error
	if db, err = sql.Open("fakesql", "fixture"); err != nil {
		panic(err)
	}
	db.SetMaxOpenConns(20)
	db.SetMaxIdleConns(10)
	db.SetConnMaxLifetime(time.Hour)
	expvar.Publish("db", expvar.Func(func() interface{} { return db.Stats() }))
	http.HandleFunc("/", hello)
	http.HandleFunc("/slow", slow)
	go fixture.Churn()
	logJSON("", "starting", nil)
	fixture.Serve(logged(http.DefaultServeMux))
}

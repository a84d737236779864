// Three handlers; two of them start background waiters through one shared helper. Each
// request runs under pprof.Do with a "handler" label, and goroutines inherit the labels of
// the goroutine that starts them.
package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime/pprof"
	"sync"
)

var (
	uploaded     = make(chan struct{}) // closed by a shutdown hook that is never registered
	indexRebuilt = make(chan struct{}) // closed when the search index is rebuilt
	waiting      sync.WaitGroup
)

// notifyWhen starts a goroutine that sends a notification once ready is closed.
func notifyWhen(ready <-chan struct{}) {
	waiting.Add(1)
	go wait(ready)
}

func wait(ready <-chan struct{}) {
	waiting.Done()
	<-ready
}

func checkout(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") }

func export(w http.ResponseWriter, r *http.Request) {
	notifyWhen(uploaded)
	fmt.Fprintln(w, "queued")
}

func search(w http.ResponseWriter, r *http.Request) {
	notifyWhen(indexRebuilt)
	fmt.Fprintln(w, "results")
}

func labelled(name string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		pprof.Do(r.Context(), pprof.Labels("handler", name), func(ctx context.Context) {
			h(w, r.WithContext(ctx))
		})
	}
}

func main() {
	mux := http.NewServeMux()
	mux.HandleFunc("/checkout", labelled("checkout", checkout))
	mux.HandleFunc("/export", labelled("export", export))
	mux.HandleFunc("/search", labelled("search", search))

	// The load test: many checkouts, some exports, a few searches.
	load := map[string]int{"/checkout": 40, "/export": 12, "/search": 3}
	for _, path := range []string{"/checkout", "/export", "/search"} {
		for i := 0; i < load[path]; i++ {
			mux.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil))
		}
	}
	waiting.Wait()
	pprof.Lookup("goroutine").WriteTo(os.Stdout, 1) // what /debug/pprof/goroutine?debug=1 serves
}

// The checklist's bad Go fixture: the good one with each practice of the checklist missing.
// No net/http/pprof, handlers without a context timeout, a pool without limits, plain-text logs;
// run with GODEBUG=gctrace=1,asyncpreemptoff=1 its non-preemptible loops stretch GC pauses.
package main

import (
	"database/sql"
	"expvar"
	"fmt"
	"log"
	"net/http"
	"time"

	_ "fakesql"
	"fixture"
)

var db *sql.DB

func hello(w http.ResponseWriter, r *http.Request) {
	if err := db.Ping(); err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	log.Printf("hello %s", r.URL.Path)
	fmt.Fprintln(w, "hello")
}

// slow takes a minute whatever the client or the server wants.
func slow(w http.ResponseWriter, r *http.Request) {
	time.Sleep(time.Minute)
	fmt.Fprintln(w, "done")
}

func main() {
	var err error
	if db, err = sql.Open("fakesql", "fixture"); err != nil {
		panic(err)
	}
	expvar.Publish("db", expvar.Func(func() interface{} { return db.Stats() }))
	http.HandleFunc("/", hello)
	http.HandleFunc("/slow", slow)
	go fixture.Churn()
	go fixture.Spin()
	log.Printf("starting")
	fixture.Serve(http.DefaultServeMux)
}

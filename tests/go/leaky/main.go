// A small Go HTTP service that leaks a goroutine per request, for gocxx-pressure's end-to-end
// test (tests/pressure_e2e_test.cpp): GET /work starts the work in a goroutine and answers
// without waiting for its result, which the goroutine then sends on an unbuffered channel
// that nobody receives from. Every request leaves one goroutine blocked in "chan send",
// created by main.handleWork. -fixed gives the channel a buffer of one, so the send
// completes and the goroutine exits. net/http/pprof serves /debug/pprof/ on the same port.
//
//	GO111MODULE=off go build -o leaky main.go && ./leaky -addr 127.0.0.1:8080 [-fixed]
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	_ "net/http/pprof"
)

var fixed = flag.Bool("fixed", false, "buffer the result channel, so that no goroutine leaks")

func compute() int { return 42 }

func handleWork(w http.ResponseWriter, r *http.Request) {
	size := 0
	if *fixed {
		size = 1
	}
	result := make(chan int, size)
	go func() { result <- compute() }()
	fmt.Fprintln(w, "accepted")
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	flag.Parse()
	http.HandleFunc("/work", handleWork)
	log.Fatal(http.ListenAndServe(*addr, nil))
}

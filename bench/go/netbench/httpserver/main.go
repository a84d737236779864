// The Go side of bench/compare_http: net/http's hello world.
//
//	netbench-httpserver [addr [parked]]      default 127.0.0.1:0, 0
//
// Prints "LISTEN <addr>" once listening; GET / answers "hello world\n". With parked > 0 it
// first parks that many goroutines on a channel and serves net/http/pprof's endpoints, for
// timing /debug/pprof/goroutine?debug=2. Exits 0 on SIGTERM.
package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"strconv"
	"syscall"
)

func main() {
	addr := "127.0.0.1:0"
	if len(os.Args) > 1 {
		addr = os.Args[1]
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "httpserver:", err)
		os.Exit(1)
	}
	fmt.Println("LISTEN", ln.Addr())
	parked := 0
	if len(os.Args) > 2 {
		parked, _ = strconv.Atoi(os.Args[2])
	}
	never := make(chan int)
	for i := 0; i < parked; i++ {
		go func() { <-never }()
	}
	mux := http.NewServeMux()
	if parked > 0 {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("hello world\n"))
	})
	go http.Serve(ln, mux)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
}

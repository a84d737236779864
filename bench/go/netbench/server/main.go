// The Go side of bench/compare_net: a plain TCP echo server, one goroutine per connection.
//
//	netbench-server [-addr 127.0.0.1:0] [-bufsize 4096] [addr]
//
// Prints "LISTEN <addr>" on stdout once listening. Each connection reads into its own buffer
// and writes back what it read (the client frames messages by size). Raises RLIMIT_NOFILE to
// the hard limit at start (Go 1.19 does not). Exits 0 on SIGTERM or SIGINT; accept errors and
// connection errors other than EOF are counted and reported on stderr.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"
)

var connErrors, acceptErrors, accepted atomic.Int64

func raiseNofile() {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		fmt.Fprintf(os.Stderr, "server: getrlimit: %v\n", err)
		return
	}
	// As root the hard limit can go up too; otherwise take the hard limit.
	want := lim
	if want.Max < 1<<20 {
		want.Max = 1 << 20
	}
	want.Cur = want.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err != nil {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			fmt.Fprintf(os.Stderr, "server: setrlimit: %v\n", err)
		}
	}
}

func serve(c net.Conn, bufsize int) {
	defer c.Close()
	buf := make([]byte, bufsize)
	for {
		n, err := c.Read(buf)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				if connErrors.Add(1) <= 5 {
					fmt.Fprintf(os.Stderr, "server: read: %v\n", err)
				}
			}
			return
		}
		if _, err := c.Write(buf[:n]); err != nil {
			if connErrors.Add(1) <= 5 {
				fmt.Fprintf(os.Stderr, "server: write: %v\n", err)
			}
			return
		}
	}
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	bufsize := flag.Int("bufsize", 4096, "read buffer per connection")
	flag.Parse()
	if flag.NArg() > 0 { // `netbench-server 127.0.0.1:0`, as bench/net_server takes it
		*addr = flag.Arg(0)
	}
	raiseNofile()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "server: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("LISTEN %s\n", ln.Addr())

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sigs
		if n, a := connErrors.Load(), acceptErrors.Load(); n != 0 || a != 0 {
			fmt.Fprintf(os.Stderr, "server: %d connection errors, %d accept errors (%d accepted)\n", n, a, accepted.Load())
		}
		os.Exit(0)
	}()

	for {
		c, err := ln.Accept()
		if err != nil {
			if acceptErrors.Add(1) <= 5 {
				fmt.Fprintf(os.Stderr, "server: accept: %v\n", err)
			}
			time.Sleep(5 * time.Millisecond) // EMFILE and the like: back off, as net/http does
			continue
		}
		accepted.Add(1)
		go serve(c, *bufsize)
	}
}

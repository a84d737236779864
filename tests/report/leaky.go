// leaky: a small Go program with goroutine leaks, whose dumps tests/report_test.cpp analyzes
// (go1.19.txt and go1.19-debug1.txt were captured from it with Debian's Go 1.19:
// `go run leaky.go -wait 65s -dump go1.19.txt -dump1 go1.19-debug1.txt`).
//
// Leaks: main.startWorkers starts workers that wait on a channel nobody closes ("chan
// receive"); main.handle leaves senders behind whose receiver gave up ("chan send"), in two
// rounds -wait apart; main.lockForever blocks on a held mutex (Go 1.19 says "semacquire").
// Go shows a wait's minutes only once a GC has seen the goroutine blocked: runtime.GC()
// after each round.
package main

import (
	"flag"
	"log"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"time"
)

func worker(jobs <-chan int) {
	for range jobs {
	}
}

func startWorkers(n int) {
	jobs := make(chan int) // never closed: the leak
	for i := 0; i < n; i++ {
		go worker(jobs)
	}
}

// handle gives up after a millisecond; its computation takes five, so every call leaves the
// sender blocked on the unbuffered result channel.
func handle(req int) int {
	result := make(chan int)
	go func() {
		time.Sleep(5 * time.Millisecond)
		result <- req
	}()
	select {
	case v := <-result:
		return v
	case <-time.After(time.Millisecond):
		return -1
	}
}

func lockForever(mu *sync.Mutex) {
	go func() {
		mu.Lock()
	}()
}

func writeDump(path string, level int) {
	f, err := os.Create(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup("goroutine").WriteTo(f, level); err != nil {
		log.Fatal(err)
	}
}

func main() {
	wait := flag.Duration("wait", 0, "time between the two rounds of leaks, and before the dump")
	dump := flag.String("dump", "", "file for the debug=2 dump (default: stdout)")
	dump1 := flag.String("dump1", "", "file for the debug=1 profile (default: none)")
	flag.Parse()

	var mu sync.Mutex
	mu.Lock()
	lockForever(&mu)
	startWorkers(30)
	for round := 0; round < 2; round++ {
		for i := 0; i < 10; i++ {
			handle(i)
		}
		time.Sleep(20 * time.Millisecond) // the slow senders reach their send
		runtime.GC()
		time.Sleep(*wait)
	}
	if *dump == "" {
		pprof.Lookup("goroutine").WriteTo(os.Stdout, 2)
	} else {
		writeDump(*dump, 2)
	}
	if *dump1 != "" {
		writeDump(*dump1, 1)
	}
}

// Go reference implementation of the gocxx comparison workloads (see bench/workloads.cpp for
// the C++ twin; the two files must stay in step).
//
//	workloads <name> [target-ms]
//
// prints one or more machine-readable lines "<row> <unit> <value>".
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"gocxxbench/sizing"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ---- memory probes (same method as the C++ side) ---------------------------------------------

// rssBytes: resident pages (second field of /proc/self/statm) times the page size.
func rssBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		panic(err)
	}
	f := strings.Fields(string(b))
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

// pteBytes: the VmPTE line of /proc/self/status (page-table memory), in bytes.
func pteBytes() int64 {
	fh, err := os.Open("/proc/self/status")
	if err != nil {
		panic(err)
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "VmPTE:") {
			f := strings.Fields(line[len("VmPTE:"):])
			kb, _ := strconv.ParseInt(f[0], 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// ---- workloads -------------------------------------------------------------------------------

// pingpong: n round trips over two unbuffered channels between main and one partner goroutine.
func pingpong(n int) time.Duration {
	ping, pong := make(chan int), make(chan int)
	go func() {
		for v := range ping {
			pong <- v
		}
	}()
	start := time.Now()
	for i := 0; i < n; i++ {
		ping <- i
		<-pong
	}
	d := time.Since(start)
	close(ping)
	return d
}

const spawnBatch = 100000

// spawnWarm: n goroutines that each call wg.Done(), spawned in batches of up to 100k; main
// spawns a whole batch, then waits for it.
func spawnWarm(n int) time.Duration {
	var wg sync.WaitGroup
	start := time.Now()
	for left := n; left > 0; {
		b := spawnBatch
		if left < b {
			b = left
		}
		left -= b
		wg.Add(b)
		for i := 0; i < b; i++ {
			go func() { wg.Done() }()
		}
		wg.Wait()
	}
	return time.Since(start)
}

// spawn: the first 100k goroutines of the process (spawn_first: each made for the first time,
// since all are alive at once, parked on a gate until the last is spawned), then spawn_warm
// sized as usual, whose goroutines reuse those 100k (a batch never has more alive).
func spawn() {
	var wg sync.WaitGroup
	gate := make(chan int)
	start := time.Now()
	wg.Add(spawnBatch)
	for i := 0; i < spawnBatch; i++ {
		go func() {
			<-gate
			wg.Done()
		}()
	}
	close(gate)
	wg.Wait()
	fmt.Printf("spawn_first ns/op %.1f\n", float64(time.Since(start).Nanoseconds())/spawnBatch)
	fmt.Printf("spawn_warm ns/op %.1f\n", sizing.Measure(spawnWarm))
}

// prodcons: one producer sends n ints, then closes; one consumer ranges over the channel.
func prodcons(capacity int) func(n int) time.Duration {
	return func(n int) time.Duration {
		ch := make(chan int, capacity)
		done := make(chan int64)
		start := time.Now()
		go func() {
			for i := 0; i < n; i++ {
				ch <- i
			}
			close(ch)
		}()
		go func() {
			var sum int64
			for v := range ch {
				sum += int64(v)
			}
			done <- sum
		}()
		<-done
		return time.Since(start)
	}
}

// select2 / select2b16: two producers on unbuffered channels (capacity 16), n items in all;
// main selects over both.
func select2(capacity int) func(n int) time.Duration {
	return func(n int) time.Duration { return select2With(capacity, n) }
}

func select2With(capacity, n int) time.Duration {
	a, b := make(chan int, capacity), make(chan int, capacity)
	producer := func(ch chan int, count int) {
		for i := 0; i < count; i++ {
			ch <- i
		}
	}
	start := time.Now()
	go producer(a, n/2)
	go producer(b, n-n/2)
	var sum int64
	for i := 0; i < n; i++ {
		select {
		case v := <-a:
			sum += int64(v)
		case v := <-b:
			sum += int64(v)
		}
	}
	d := time.Since(start)
	if sum < 0 {
		fmt.Println(sum)
	}
	return d
}

// mutex8: 8 goroutines share n lock/counter++/unlock operations on one Mutex.
func mutex8(n int) time.Duration {
	const workers = 8
	var mu sync.Mutex
	var wg sync.WaitGroup
	counter := 0
	start := time.Now()
	wg.Add(workers)
	for w := 0; w < workers; w++ {
		ops := n / workers
		if w < n%workers {
			ops++
		}
		go func(ops int) {
			for i := 0; i < ops; i++ {
				mu.Lock()
				counter++
				mu.Unlock()
			}
			wg.Done()
		}(ops)
	}
	wg.Wait()
	d := time.Since(start)
	if counter != n {
		panic("mutex8: lost updates")
	}
	return d
}

// wgadddone: GOMAXPROCS goroutines share n Add(1)/Done() pairs on one WaitGroup (like the
// standard library's BenchmarkWaitGroupAddDone under RunParallel).
func wgadddone(n int) time.Duration {
	workers := runtime.GOMAXPROCS(0)
	var wg, finished sync.WaitGroup
	start := time.Now()
	finished.Add(workers)
	for w := 0; w < workers; w++ {
		ops := n / workers
		if w < n%workers {
			ops++
		}
		go func(ops int) {
			for i := 0; i < ops; i++ {
				wg.Add(1)
				wg.Done()
			}
			finished.Done()
		}(ops)
	}
	finished.Wait()
	return time.Since(start)
}

// parked spawns count goroutines that each signal ready, then block receiving from gate and
// signal exited once released. It returns after all have signalled ready.
func parked(count int, gate chan struct{}, ready, exited *sync.WaitGroup) {
	ready.Add(count)
	exited.Add(count)
	for i := 0; i < count; i++ {
		go func() {
			ready.Done()
			<-gate
			exited.Done()
		}()
	}
	ready.Wait()
}

// mem200k: RSS and page-table growth per parked goroutine.
func mem200k() {
	const count = 200000
	gate := make(chan struct{})
	var ready, exited sync.WaitGroup
	rss0, pte0 := rssBytes(), pteBytes()
	parked(count, gate, &ready, &exited)
	time.Sleep(10 * time.Millisecond) // let the last ones reach the receive
	rss1, pte1 := rssBytes(), pteBytes()
	close(gate)
	exited.Wait()
	fmt.Printf("mem200k B/goroutine %.1f\n", float64(rss1-rss0)/count)
	fmt.Printf("mem200k_pte B/goroutine %.1f\n", float64(pte1-pte0)/count)
}

// park1m: spawn 1M goroutines that all park on one channel, close it, wait for all of them.
func park1m() {
	const count = 1000000
	gate := make(chan struct{})
	var ready, exited sync.WaitGroup
	rss0 := rssBytes()
	start := time.Now()
	parked(count, gate, &ready, &exited)
	rss1 := rssBytes()
	close(gate)
	exited.Wait()
	d := time.Since(start)
	fmt.Printf("park1m ns/goroutine %.1f\n", float64(d.Nanoseconds())/count)
	fmt.Printf("park1m_rss B/goroutine %.1f\n", float64(rss1-rss0)/count)
}

// dump100k: 100k goroutines parked on a channel; time a full text dump (debug=2) and a
// goroutine profile (profile.proto, gzipped) of them. Mirrors dump100k in workloads.cpp.
func dump100k() {
	const count = 100000
	gate := make(chan struct{})
	var ready, exited sync.WaitGroup
	parked(count, gate, &ready, &exited)
	time.Sleep(10 * time.Millisecond) // let the last ones reach the receive
	timeMs := func(debug int) float64 {
		var buf bytes.Buffer
		start := time.Now()
		pprof.Lookup("goroutine").WriteTo(&buf, debug)
		return float64(time.Since(start).Nanoseconds()) / 1e6
	}
	text := timeMs(2)
	profile := timeMs(0)
	close(gate)
	exited.Wait()
	fmt.Printf("dump100k_text ms %.1f\n", text)
	fmt.Printf("dump100k_profile ms %.1f\n", profile)
}

// ---- defer cost (section 3.3 of the article this project started from); mirrors defer_*_once in workloads.cpp ----

var sink int64

//go:noinline
func bump() { sink++ }

//go:noinline
func add(v int64) { sink += v }

//go:noinline
func deferNoArgOnce() { defer bump() }

//go:noinline
func deferArgOnce(i int64) { defer add(i) }

//go:noinline
func deferClosureOnce(i int64) { defer func() { sink += i }() }

func timeCalls(n int, call func(i int64)) time.Duration {
	start := time.Now()
	for i := 0; i < n; i++ {
		call(int64(i))
	}
	return time.Since(start)
}

func defernoarg(n int) time.Duration   { return timeCalls(n, func(int64) { deferNoArgOnce() }) }
func deferarg(n int) time.Duration     { return timeCalls(n, deferArgOnce) }
func deferclosure(n int) time.Duration { return timeCalls(n, deferClosureOnce) }

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: workloads <pingpong|spawn|prodcons0|prodcons100|select2|select2b16|mutex8|wgadddone|defernoarg|deferarg|deferclosure|mem200k|park1m|dump100k> [target-ms]")
		os.Exit(2)
	}
	if len(os.Args) > 2 {
		sizing.SetTargetFromArg(os.Args[2])
	}
	name := os.Args[1]
	timed := map[string]func(int) time.Duration{
		"pingpong":     pingpong,
		"prodcons0":    prodcons(0),
		"prodcons100":  prodcons(100),
		"select2":      select2(0),
		"select2b16":   select2(16),
		"mutex8":       mutex8,
		"wgadddone":    wgadddone,
		"defernoarg":   defernoarg,
		"deferarg":     deferarg,
		"deferclosure": deferclosure,
	}
	switch {
	case timed[name] != nil:
		fmt.Printf("%s ns/op %.1f\n", name, sizing.Measure(timed[name]))
	case name == "spawn":
		spawn()
	case name == "mem200k":
		mem200k()
	case name == "park1m":
		park1m()
	case name == "dump100k":
		dump100k()
	default:
		fmt.Fprintln(os.Stderr, "unknown workload:", name)
		os.Exit(2)
	}
}

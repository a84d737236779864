// Go counterparts of bench/micro_bench.cpp, for reference numbers:
//
//	cd bench/go && go test -run '^$' -bench . -benchtime 0.2s
//
// Each benchmark runs its loop on one goroutine, as the gocxx versions run theirs on the main
// goroutine of a gocxx::run.
package main

import (
	"runtime"
	"sync"
	"testing"
	"time"
)

func BenchmarkPingPong(b *testing.B) {
	ping, pong := make(chan int), make(chan int)
	go func() {
		for v := range ping {
			pong <- v
		}
	}()
	for i := 0; i < b.N; i++ {
		ping <- i
		<-pong
	}
	close(ping)
}

func BenchmarkSpawn(b *testing.B) {
	var wg sync.WaitGroup
	for i := 0; i < b.N; i++ {
		wg.Add(1)
		go func() { wg.Done() }()
		if (i+1)%1024 == 0 {
			wg.Wait()
		}
	}
	wg.Wait()
}

func benchSendRecv(b *testing.B, capacity int) {
	ch := make(chan int, capacity)
	for i := 0; i < b.N; i++ {
		ch <- i
		<-ch
	}
}

func BenchmarkChanSendRecvBuffered1(b *testing.B)   { benchSendRecv(b, 1) }
func BenchmarkChanSendRecvBuffered100(b *testing.B) { benchSendRecv(b, 100) }

func BenchmarkChanFillDrain100(b *testing.B) {
	ch := make(chan int, 100)
	for i := 0; i < b.N; i++ {
		for j := 0; j < 100; j++ {
			ch <- j
		}
		for j := 0; j < 100; j++ {
			<-ch
		}
	}
}

func BenchmarkSelectDefaultEmpty(b *testing.B) {
	ch := make(chan int, 1)
	defaults := 0
	for i := 0; i < b.N; i++ {
		select {
		case <-ch:
		default:
			defaults++
		}
	}
	_ = defaults
}

func BenchmarkSelectDefaultReady(b *testing.B) {
	a, c := make(chan int, 1), make(chan int, 1)
	for i := 0; i < b.N; i++ {
		a <- 1
		select {
		case <-a:
		case <-c:
		default:
		}
	}
}

func BenchmarkMutexUncontended(b *testing.B) {
	var mu sync.Mutex
	counter := 0
	for i := 0; i < b.N; i++ {
		mu.Lock()
		counter++
		mu.Unlock()
	}
	_ = counter
}

func BenchmarkWaitGroupAddDone(b *testing.B) {
	var wg sync.WaitGroup
	for i := 0; i < b.N; i++ {
		wg.Add(1)
		wg.Done()
	}
}

func BenchmarkTimeAfterCreate(b *testing.B) {
	for i := 0; i < b.N; i++ {
		_ = time.After(time.Hour)
	}
}

func BenchmarkTimerCreateStop(b *testing.B) {
	for i := 0; i < b.N; i++ {
		t := time.NewTimer(time.Hour)
		t.Stop()
	}
}

func BenchmarkYield(b *testing.B) {
	for i := 0; i < b.N; i++ {
		runtime.Gosched()
	}
}

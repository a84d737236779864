package main

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"time"
)

// 1. A call with a timeout: the answer arrives after the caller gave up.
func callWithTimeout(gate <-chan struct{}) {
	answer := make(chan int)
	go func() {
		<-gate // the slow backend
		answer <- 42
	}()
	select {
	case <-answer:
	case <-time.After(10 * time.Millisecond):
	}
}

// 2. The same with a buffered answer channel.
func callWithTimeoutBuffered(gate <-chan struct{}) {
	answer := make(chan int, 1)
	go func() {
		<-gate
		answer <- 42
	}()
	select {
	case <-answer:
	case <-time.After(10 * time.Millisecond):
	}
}

// 3. A consumer that stops after two values of five.
func firstTwo() {
	ch := make(chan int)
	go func() {
		for i := 0; i < 5; i++ {
			ch <- i
		}
		close(ch)
	}()
	<-ch
	<-ch
}

// 4. Workers that range over a channel that is closed.
func rangeWorkers() {
	jobs := make(chan int)
	for i := 0; i < 3; i++ {
		go func() {
			for range jobs {
			}
		}()
	}
	jobs <- 1
	close(jobs)
}

// 5. A watcher whose context is cancelled, and one whose cancel function is dropped.
func watchers() {
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-ctx.Done() }()
	cancel()

	ctx2, _ := context.WithTimeout(context.Background(), time.Hour)
	go func() { <-ctx2.Done() }()
}

// 6. A goroutine that waits on a channel that was never made.
func nilWait() {
	var ready chan struct{}
	go func() { <-ready }()
}

// 7. A WaitGroup waiter with one Done missing.
func halfDone() {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { wg.Wait() }()
	wg.Done()
}

// 8. Waiters on a sync.Cond that is broadcast.
func broadcast() {
	var mu sync.Mutex
	cond := sync.NewCond(&mu)
	ready := false
	for i := 0; i < 2; i++ {
		go func() {
			mu.Lock()
			for !ready {
				cond.Wait()
			}
			mu.Unlock()
		}()
	}
	mu.Lock()
	ready = true
	cond.Broadcast()
	mu.Unlock()
}

func main() {
	gate := make(chan struct{})
	callWithTimeout(gate)
	callWithTimeoutBuffered(gate)
	close(gate) // the slow backends answer now
	firstTwo()
	rangeWorkers()
	watchers()
	nilWait()
	halfDone()
	broadcast()

	settle() // every goroutine has now exited or blocked for good
	fmt.Println(runtime.NumGoroutine())
}

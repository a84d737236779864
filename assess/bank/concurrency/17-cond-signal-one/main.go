package main

import (
	"fmt"
	"runtime"
	"sync"
	"time"
)

func main() {
	var mu sync.Mutex
	cond := sync.NewCond(&mu)
	ready := false
	waiting := 0
	woken := make(chan int, 3)

	for i := 0; i < 3; i++ {
		go func(id int) {
			mu.Lock()
			waiting++
			for !ready {
				cond.Wait()
			}
			mu.Unlock()
			woken <- id
		}(i)
	}

	// Wait until all three goroutines are parked in cond.Wait.
	for {
		mu.Lock()
		if waiting == 3 {
			break
		}
		mu.Unlock()
		runtime.Gosched()
	}
	ready = true
	cond.Signal()
	mu.Unlock()

	n := 0
	for {
		select {
		case <-woken:
			n++
			continue
		case <-time.After(200 * time.Millisecond):
		}
		break
	}
	fmt.Println("woken:", n)
}

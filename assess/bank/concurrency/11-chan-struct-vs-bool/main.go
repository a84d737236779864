package main

import (
	"fmt"
	"sync"
	"sync/atomic"
)

// worker runs until it is told to stop. It treats the value it receives as the stop flag.
func worker(stop <-chan bool, stopped *int32, wg *sync.WaitGroup) {
	defer wg.Done()
	if <-stop {
		atomic.AddInt32(stopped, 1) // clean shutdown: flush, release resources
	}
}

func main() {
	stop := make(chan bool)
	var stopped int32
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go worker(stop, &stopped, &wg)
	}

	stop <- true // tell a worker to stop
	close(stop)  // and broadcast the stop to the rest
	wg.Wait()

	fmt.Println("stopped cleanly:", atomic.LoadInt32(&stopped))
}

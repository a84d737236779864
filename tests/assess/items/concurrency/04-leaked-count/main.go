package main

import (
	"fmt"
	"runtime"
)

func first(n int) int {
	ch := make(chan int)
	for i := 0; i < n; i++ {
		go func(i int) { ch <- i }(i)
	}
	return <-ch
}

func main() {
	first(4)
	// The winning sender may not have exited yet when first returns (a loaded machine shows 5):
	// wait until it has; the three blocked senders never go.
	for runtime.NumGoroutine() > 4 {
		runtime.Gosched()
	}
	fmt.Println(runtime.NumGoroutine())
}

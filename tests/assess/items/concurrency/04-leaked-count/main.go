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
	fmt.Println(runtime.NumGoroutine())
}

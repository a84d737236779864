package main

import (
	"os"
	"runtime/pprof"
	"time"
)

func producer(ch chan<- int) { ch <- 1 }

func consumer(ch <-chan int, done chan struct{}) {
	<-ch
	<-done
}

func main() {
	ch := make(chan int)
	done := make(chan struct{})
	for i := 0; i < 2; i++ {
		go consumer(ch, done)
	}
	for i := 0; i < 7; i++ {
		go producer(ch)
	}
	time.Sleep(200 * time.Millisecond) // every goroutine has blocked by now
	pprof.Lookup("goroutine").WriteTo(os.Stdout, 2)
}

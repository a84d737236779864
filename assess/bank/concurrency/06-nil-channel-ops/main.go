package main

import (
	"fmt"
	"time"
)

func main() {
	var ch chan int // declared, never made: ch == nil

	select {
	case ch <- 1:
		fmt.Println("sent")
	default:
		fmt.Println("skipped")
	}

	select {
	case v := <-ch:
		fmt.Println("received", v)
	case <-time.After(10 * time.Millisecond):
		fmt.Println("timed out")
	}

	close(ch)
	fmt.Println("closed")
}

package main

import (
	"fmt"
	"runtime/metrics"
	"time"
)

func main() {
	block := make(chan struct{})
	for i := 0; i < 10; i++ {
		go func() { <-block }() // subscribers waiting for an event
	}
	time.AfterFunc(time.Hour, func() { close(block) }) // a timeout that has not fired

	samples := []metrics.Sample{{Name: "/sched/goroutines:goroutines"}}
	metrics.Read(samples)
	fmt.Println(samples[0].Value.Uint64())
}

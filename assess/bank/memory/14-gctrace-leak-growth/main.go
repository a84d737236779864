package main

import (
	"runtime"
	"time"
)

var history [][]byte // meant to keep the last batch's results for a status page

func processBatch() {
	var results [][]byte
	for i := 0; i < 24; i++ {
		buf := make([]byte, 1<<20)
		if i%3 == 0 {
			results = append(results, buf)
		}
	}
	history = append(history, results...)
}

func main() {
	for batch := 0; batch < 4; batch++ {
		processBatch()
		runtime.GC() // after every batch (the lines marked "(forced)")
	}
	time.Sleep(100 * time.Millisecond) // the runtime prints the last trace line just after GC returns
}

package main

import (
	"runtime"
	"runtime/debug"
	"time"
)

var cache [][]byte // lives for the whole run

func main() {
	debug.SetGCPercent(-1) // no automatic collections: only the one forced below
	var scratch [][]byte
	for i := 0; i < 96; i++ {
		buf := make([]byte, 1<<20)
		if i%3 == 0 {
			cache = append(cache, buf)
		} else {
			scratch = append(scratch, buf)
		}
	}
	scratch = nil
	runtime.GC()
	runtime.KeepAlive(cache)
	time.Sleep(100 * time.Millisecond) // the runtime prints the trace line just after GC returns
}

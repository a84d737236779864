package main

import (
	"runtime"
	"runtime/debug"
	"time"
)

var table [][]byte

func main() {
	debug.SetGCPercent(400) // as if run with GOGC=400
	for i := 0; i < 20; i++ {
		table = append(table, make([]byte, 1<<20))
	}
	runtime.GC()
	runtime.GC()
	runtime.GC()
	runtime.KeepAlive(table)
	time.Sleep(100 * time.Millisecond) // the runtime prints the trace line just after GC returns
}

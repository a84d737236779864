package main

import (
	"fmt"
	"runtime"
	"sync"
)

func main() {
	runtime.GOMAXPROCS(1) // one P: a Get finds what a Put left behind

	created := 0
	pool := sync.Pool{New: func() interface{} {
		created++
		return new([4096]byte)
	}}

	pool.Put(pool.Get()) // the first buffer, pooled

	runtime.GC()
	pool.Put(pool.Get())
	afterOneGC := created

	runtime.GC()
	runtime.GC()
	pool.Put(pool.Get())
	afterTwoMore := created

	fmt.Println(afterOneGC, afterTwoMore)
}

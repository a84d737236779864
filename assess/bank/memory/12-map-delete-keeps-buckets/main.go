package main

import (
	"fmt"
	"runtime"
)

type session [64]byte

func heapAlloc() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

func main() {
	base := heapAlloc()
	m := make(map[int]session)
	for i := 0; i < 50000; i++ {
		m[i] = session{}
	}
	full := heapAlloc() - base

	for k := range m {
		if k != 0 { // session 0 (the admin) stays
			delete(m, k)
		}
	}
	empty := heapAlloc() - base

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := 1; i < 50000; i++ { // the same keys again
		m[i] = session{}
	}
	runtime.ReadMemStats(&after)

	refillAllocs := after.Mallocs - before.Mallocs
	fmt.Println(len(m) == 50000, empty > full/2, refillAllocs < 100)
}

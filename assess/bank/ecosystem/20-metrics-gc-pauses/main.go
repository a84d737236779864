package main

import (
	"fmt"
	"runtime"
	"runtime/metrics"
)

func main() {
	for i := 0; i < 3; i++ {
		runtime.GC()
	}
	samples := []metrics.Sample{
		{Name: "/gc/cycles/forced:gc-cycles"},
		{Name: "/gc/pauses:seconds"},
	}
	metrics.Read(samples)
	fmt.Println("forced cycles:", samples[0].Value.Uint64())

	h := samples[1].Value.Float64Histogram()
	var pauses uint64
	for _, c := range h.Counts {
		pauses += c
	}
	fmt.Println(pauses)
}

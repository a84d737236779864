package main

import (
	"fmt"
	"runtime/metrics"
)

func main() {
	// A dashboard copied from a newer Go release reads the GC target percentage.
	samples := []metrics.Sample{
		{Name: "/sched/goroutines:goroutines"},
		{Name: "/gc/gogc:percent"},
	}
	metrics.Read(samples)
	for _, s := range samples {
		fmt.Println(s.Name, s.Value.Kind() == metrics.KindBad)
	}
	fmt.Println("GOGC", samples[1].Value.Uint64())
}

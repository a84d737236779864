// Package sizing runs a workload the way Go's testing.B sizes a benchmark, for both Go sides of
// bench/compare (bench/go/workloads.go and bench/go/maps). The C++ twin is
// bench/sizing.hpp; keep the two in step.
package sizing

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

// Target is how long the timed run aims to last.
var Target = 400 * time.Millisecond

// SetTargetFromArg sets Target from a "target-ms" command-line argument, exiting on a bad one.
func SetTargetFromArg(arg string) {
	ms, err := strconv.Atoi(arg)
	if err != nil || ms <= 0 {
		fmt.Fprintln(os.Stderr, "bad target-ms:", arg)
		os.Exit(2)
	}
	Target = time.Duration(ms) * time.Millisecond
}

// Measure grows n until one run of f(n) takes at least 1/20 of Target, then does one run sized
// to last about Target and returns its ns/op.
func Measure(f func(n int) time.Duration) float64 {
	n := 1
	var d time.Duration
	for {
		d = f(n)
		if d >= Target/20 || n >= 1<<30 {
			break
		}
		next := n * 100
		if d > 0 {
			next = int(float64(n) * float64(Target/20) * 1.2 / float64(d))
		}
		if next > n*100 {
			next = n * 100
		}
		if next <= n {
			next = n + 1
		}
		n = next
	}
	n = int(float64(n) * float64(Target) / float64(d))
	if n < 1 {
		n = 1
	}
	d = f(n)
	return float64(d.Nanoseconds()) / float64(n)
}

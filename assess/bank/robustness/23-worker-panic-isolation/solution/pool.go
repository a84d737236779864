// Package item runs batches of jobs on a fixed number of workers.
package item

import (
	"fmt"
	"runtime/debug"
	"sync"
)

// Job computes one value.
type Job func() (int, error)

// Result is the outcome of one job.
type Result struct {
	Value int
	Err   error
}

// PanicError reports a job that panicked.
type PanicError struct {
	Value any    // the panic value
	Stack []byte // the stack of the job that panicked
}

func (e *PanicError) Error() string { return fmt.Sprintf("job panicked: %v", e.Value) }

// Run executes jobs on `workers` goroutines and returns one Result per job, in job order.
func Run(jobs []Job, workers int) []Result {
	results := make([]Result, len(jobs))
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i] = runOne(jobs[i])
			}
		}()
	}
	for i := range jobs {
		next <- i
	}
	close(next)
	wg.Wait()
	return results
}

// runOne recovers per job: a recover must run in the goroutine that panics (a recover in
// Run's goroutine never sees it), and per job keeps the worker alive for the next one.
func runOne(job Job) (r Result) {
	defer func() {
		if v := recover(); v != nil {
			r = Result{Err: &PanicError{Value: v, Stack: debug.Stack()}}
		}
	}()
	v, err := job()
	return Result{Value: v, Err: err}
}

// Package item runs batches of jobs on a fixed number of workers.
package item

import (
	"fmt"
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
				v, err := jobs[i]()
				results[i] = Result{Value: v, Err: err}
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

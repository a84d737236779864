package item

import "sync"

// RunAll calls work(i) for every i in [0, n), all of them concurrently, and returns once every
// call has returned.
func RunAll(n int, work func(i int)) {
	var wg sync.WaitGroup
	wg.Add(n) // before the goroutines start, so Wait cannot run ahead of an Add
	for i := 0; i < n; i++ {
		go func(i int) {
			defer wg.Done()
			work(i)
		}(i)
	}
	wg.Wait()
}

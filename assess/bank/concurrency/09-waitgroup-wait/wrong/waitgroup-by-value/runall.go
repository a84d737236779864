package item

import "sync"

func call(i int, work func(int), wg sync.WaitGroup) {
	defer wg.Done()
	work(i)
}

// RunAll calls work(i) for every i in [0, n), all of them concurrently, and returns once every
// call has returned.
func RunAll(n int, work func(i int)) {
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go call(i, work, wg)
	}
	wg.Wait()
}

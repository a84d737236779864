package item

import "sync"

type results struct {
	mu   sync.Mutex
	seen int
}

func count(r results) int { return r.seen }

// First starts n workers and returns the first result.
func First(n int) int {
	var r results
	ch := make(chan int, n)
	for i := 0; i < n; i++ {
		go func(i int) { ch <- i * 10 }(i)
	}
	_ = count(r)
	return <-ch
}

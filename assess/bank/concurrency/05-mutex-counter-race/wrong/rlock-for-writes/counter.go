package item

import "sync"

// Counter counts page hits. Hit and Get are called from many goroutines at once
// (one per HTTP request).
type Counter struct {
	mu   sync.RWMutex
	hits map[string]int
}

func NewCounter() *Counter {
	return &Counter{hits: make(map[string]int)}
}

// Hit records one visit of page.
func (c *Counter) Hit(page string) {
	c.mu.RLock() // a read lock does not exclude other Hit calls
	defer c.mu.RUnlock()
	c.hits[page]++
}

// Get returns the number of visits of page so far.
func (c *Counter) Get(page string) int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.hits[page]
}

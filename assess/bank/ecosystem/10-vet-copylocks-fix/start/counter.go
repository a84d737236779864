// Package item counts events per key for the service's metrics.
package item

import "sync"

// Counter is safe for concurrent use.
type Counter struct {
	mu sync.Mutex
	n  map[string]int
}

// NewCounter returns an empty counter.
func NewCounter() Counter {
	return Counter{n: make(map[string]int)}
}

// Inc adds one to key.
func (c Counter) Inc(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[key]++
}

// Get returns key's count.
func (c Counter) Get(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[key]
}

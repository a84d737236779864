// Package item counts events per key for the service's metrics.
package item

// Counter counts events per key; pointer receivers keep go vet quiet.
type Counter struct {
	n map[string]int
}

// NewCounter returns an empty counter.
func NewCounter() *Counter {
	return &Counter{n: make(map[string]int)}
}

// Inc adds one to key.
func (c *Counter) Inc(key string) {
	c.n[key]++
}

// Get returns key's count.
func (c *Counter) Get(key string) int {
	return c.n[key]
}

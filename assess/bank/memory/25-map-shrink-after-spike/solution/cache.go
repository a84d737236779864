package item

import "sync"

type Entry struct {
	Data    [64]byte
	Expires int64 // unix seconds
}

// Cache holds short-lived entries. Traffic spikes fill it with hundreds of thousands of
// entries; Prune runs every minute.
type Cache struct {
	mu   sync.Mutex
	m    map[uint64]Entry
	peak int // the most entries m has held since it was made: its buckets are sized for that
}

func NewCache() *Cache { return &Cache{m: make(map[uint64]Entry)} }

func (c *Cache) Set(k uint64, e Entry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[k] = e
	if len(c.m) > c.peak {
		c.peak = len(c.m)
	}
}

func (c *Cache) Get(k uint64) (Entry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	return e, ok
}

func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// Prune removes the entries that expired at or before now.
func (c *Cache) Prune(now int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.m {
		if e.Expires <= now {
			delete(c.m, k)
		}
	}
	// A Go map never shrinks: delete empties slots but keeps every bucket. Once most of
	// the entries are gone, copy the survivors into a map sized for them and drop the old one.
	if len(c.m) < c.peak/4 {
		m := make(map[uint64]Entry, len(c.m))
		for k, e := range c.m {
			m[k] = e
		}
		c.m = m
		c.peak = len(m)
	}
}

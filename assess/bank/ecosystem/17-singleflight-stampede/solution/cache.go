// Package item is a read-through cache in front of a slow backend.
package item

import (
	"context"
	"sync"

	"golang.org/x/sync/singleflight"
)

// LoadFunc fetches a key from the backend.
type LoadFunc func(ctx context.Context, key string) (string, error)

// Cache is safe for concurrent use.
type Cache struct {
	load   LoadFunc
	flight singleflight.Group
	mu     sync.Mutex
	data   map[string]string
}

// New returns an empty cache in front of load.
func New(load LoadFunc) *Cache {
	return &Cache{load: load, data: make(map[string]string)}
}

func (c *Cache) cached(key string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.data[key]
	return v, ok
}

// Get returns key's cached value, loading it on a miss. Concurrent misses for one key share
// a single backend load (singleflight, keyed by the cache key); different keys load in
// parallel. Errors are not cached.
func (c *Cache) Get(ctx context.Context, key string) (string, error) {
	if v, ok := c.cached(key); ok {
		return v, nil
	}
	v, err, _ := c.flight.Do(key, func() (any, error) {
		v, err := c.load(ctx, key)
		if err != nil {
			return "", err
		}
		// Stored before the flight ends, so late callers hit the cache, not the backend.
		c.mu.Lock()
		c.data[key] = v
		c.mu.Unlock()
		return v, nil
	})
	if err != nil {
		return "", err
	}
	return v.(string), nil
}

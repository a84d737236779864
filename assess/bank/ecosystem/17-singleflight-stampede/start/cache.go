// Package item is a read-through cache in front of a slow backend.
package item

import (
	"context"
	"sync"
)

// LoadFunc fetches a key from the backend.
type LoadFunc func(ctx context.Context, key string) (string, error)

// Cache is safe for concurrent use.
type Cache struct {
	load LoadFunc
	mu   sync.Mutex
	data map[string]string
}

// New returns an empty cache in front of load.
func New(load LoadFunc) *Cache {
	return &Cache{load: load, data: make(map[string]string)}
}

// Get returns key's cached value, loading it on a miss. Errors are not cached.
func (c *Cache) Get(ctx context.Context, key string) (string, error) {
	c.mu.Lock()
	v, ok := c.data[key]
	c.mu.Unlock()
	if ok {
		return v, nil
	}
	v, err := c.load(ctx, key)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	c.data[key] = v
	c.mu.Unlock()
	return v, nil
}

package main

import (
	"fmt"
	"sync"
	"time"
)

type Registry struct {
	mu    sync.RWMutex
	items map[string]int
}

func (r *Registry) Get(k string) int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.items[k]
}

// Sum reads several items under one read lock so that it sees a consistent snapshot.
func (r *Registry) Sum(keys ...string) int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	waitForQueuedWriter(&r.mu)
	total := 0
	for _, k := range keys {
		total += r.Get(k)
	}
	return total
}

func (r *Registry) Set(k string, v int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.items[k] = v
}

func main() {
	r := &Registry{items: map[string]int{"a": 1, "b": 2}}
	go r.Set("c", 3) // a writer arrives while Sum holds its read lock
	fmt.Println(r.Sum("a", "b"))
}

// waitForQueuedWriter only makes the interleaving the same on every run: it returns once
// another goroutine is waiting in mu.Lock (from then on TryRLock fails).
func waitForQueuedWriter(mu *sync.RWMutex) {
	for mu.TryRLock() {
		mu.RUnlock()
		time.Sleep(time.Millisecond)
	}
}

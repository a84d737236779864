package main

import (
	"os"
	"runtime/pprof"
	"sync"
)

type Cache struct {
	mu      sync.Mutex
	data    map[string]string
	updates chan string // a subscriber is told about every refresh
}

func (c *Cache) Get(key string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.data[key]
}

func (c *Cache) Refresh(key, value string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.data[key] = value
	c.updates <- key // the subscriber has gone away: nobody receives
}

func handle(c *Cache, key string, out chan<- string) {
	out <- c.Get(key)
}

func worker(jobs <-chan string) {
	for range jobs {
	}
}

func main() {
	c := &Cache{data: map[string]string{"a": "1"}, updates: make(chan string)}
	jobs := make(chan string)
	for i := 0; i < 4; i++ {
		go worker(jobs)
	}
	refreshing := make(chan struct{})
	go func() {
		close(refreshing)
		c.Refresh("a", "2")
	}()
	<-refreshing
	settle() // Refresh now holds the lock
	out := make(chan string, 100)
	for i := 0; i < 30; i++ {
		go handle(c, "a", out)
	}

	settle()
	pprof.Lookup("goroutine").WriteTo(os.Stdout, 2)
}

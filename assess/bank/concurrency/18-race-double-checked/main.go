package main

import (
	"fmt"
	"sync"
	"time"
)

type Config struct {
	mu     sync.Mutex
	loaded bool
	values map[string]string
}

// load reads the configuration once; the mutex keeps two loads from running together.
func (c *Config) load() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.loaded {
		c.values = map[string]string{"region": "eu-west", "tier": "gold"}
		c.loaded = true
	}
}

// Get skips the mutex once the configuration is loaded ("double-checked locking").
func (c *Config) Get(key string) string {
	if !c.loaded {
		c.load()
	}
	return c.values[key]
}

func newConfig() *Config { return &Config{} }

func main() {
	c := newConfig()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		fmt.Println("worker:", c.Get("region"))
	}()
	time.Sleep(50 * time.Millisecond) // the request handler comes a little later
	fmt.Println("handler:", c.Get("tier"))
	wg.Wait()
}

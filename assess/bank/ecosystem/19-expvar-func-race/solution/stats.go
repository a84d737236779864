// Package item counts requests per route and publishes them on /debug/vars.
package item

import (
	"expvar"
	"sync"
)

// Stats is safe for concurrent use.
type Stats struct {
	mu      sync.Mutex
	byRoute map[string]int
}

// NewStats publishes the counts under name in expvar (name must be unique in the process).
func NewStats(name string) *Stats {
	s := &Stats{byRoute: make(map[string]int)}
	expvar.Publish(name, expvar.Func(s.snapshot))
	return s
}

// snapshot runs on the /debug/vars handler's goroutine, and the handler JSON-encodes the
// result after snapshot returns: hand it a copy made under the lock, never the live map.
func (s *Stats) snapshot() any {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := make(map[string]int, len(s.byRoute))
	for k, v := range s.byRoute {
		m[k] = v
	}
	return m
}

// Inc counts one request on route.
func (s *Stats) Inc(route string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byRoute[route]++
}

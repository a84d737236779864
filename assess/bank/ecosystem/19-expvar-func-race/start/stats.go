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
	expvar.Publish(name, expvar.Func(func() any {
		return s.byRoute
	}))
	return s
}

// Inc counts one request on route.
func (s *Stats) Inc(route string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byRoute[route]++
}

package main

import (
	"fmt"
	"sync"
)

// Stats counts hits per path; it is shared by all handlers.
type Stats struct {
	mu   sync.Mutex
	hits map[string]int
}

func (s Stats) Hit(path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hits[path]++
}

func main() {
	s := Stats{hits: map[string]int{}}
	s.Hit("/orders")
	fmt.Println(s.hits["/orders"])
}

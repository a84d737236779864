package main

import (
	"os"
	"runtime/pprof"
	"sync"
)

type Server struct {
	mu       sync.Mutex
	closing  bool
	served   int
	inflight sync.WaitGroup
	work     chan struct{} // stands in for the network: a request finishes when it gets a token
}

func (s *Server) handle(id int) {
	defer s.inflight.Done()
	<-s.work
	s.record()
}

// record updates the statistics when a request finishes.
func (s *Server) record() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.served++
}

// Shutdown refuses new requests and waits for the ones in flight.
func (s *Server) Shutdown() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closing = true
	s.inflight.Wait()
}

func main() {
	s := &Server{work: make(chan struct{})}
	for id := 0; id < 20; id++ {
		s.inflight.Add(1)
		go s.handle(id)
	}
	go s.Shutdown()
	settle() // Shutdown holds s.mu and waits; the requests wait for the network
	close(s.work)

	settle()
	pprof.Lookup("goroutine").WriteTo(os.Stdout, 2)
}

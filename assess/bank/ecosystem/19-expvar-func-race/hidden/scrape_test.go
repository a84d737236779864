package item

import (
	"sync"
	"sync/atomic"
	"testing"
)

// The metrics scraper reads /debug/vars while requests are being counted: writers keep
// counting until the scraper has finished.
func TestScrapeDuringTraffic(t *testing.T) {
	s := NewStats("routes_hidden")
	var stop atomic.Bool
	var total int64
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				s.Inc("/orders")
				atomic.AddInt64(&total, 1)
				if stop.Load() {
					return
				}
			}
		}()
	}
	for i := 0; i < 30; i++ {
		routes(t, "routes_hidden")
	}
	stop.Store(true)
	wg.Wait()
	if m := routes(t, "routes_hidden"); int64(m["/orders"]) != total {
		t.Fatalf("published %v, want /orders: %d", m, total)
	}
}

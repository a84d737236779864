package item

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
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
	// The writers count on after the last scrape with nothing ordering them after it (a sleep
	// is no synchronization): a scrape that reads the live map is then caught by the race
	// detector even when the writers got no CPU while the scrapes ran (a loaded machine).
	time.Sleep(20 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	if m := routes(t, "routes_hidden"); int64(m["/orders"]) != total {
		t.Fatalf("published %v, want /orders: %d", m, total)
	}
}

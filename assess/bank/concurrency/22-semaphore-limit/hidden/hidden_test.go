package item

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func items(n int) []string {
	s := make([]string, n)
	for i := range s {
		s[i] = "item"
	}
	return s
}

// maxTracker records the largest value seen.
type maxTracker struct {
	mu  sync.Mutex
	max int
}

func (m *maxTracker) see(v int) {
	m.mu.Lock()
	if v > m.max {
		m.max = v
	}
	m.mu.Unlock()
}

// No more than limit calls of handle run at once.
func TestProcessLimitsConcurrentCalls(t *testing.T) {
	const limit = 4
	var active int32
	var peak maxTracker
	Process(items(200), limit, func(string) {
		peak.see(int(atomic.AddInt32(&active, 1)))
		time.Sleep(2 * time.Millisecond)
		atomic.AddInt32(&active, -1)
	})
	if peak.max > limit {
		t.Fatalf("%d calls of handle ran at once, limit %d", peak.max, limit)
	}
	if peak.max < 2 {
		t.Fatalf("at most %d call ran at once: the calls must run concurrently", peak.max)
	}
}

// The goroutines are bounded too, not only the calls: a million items must not mean a
// million goroutines waiting for the semaphore.
func TestProcessBoundsGoroutines(t *testing.T) {
	const limit = 4
	base := runtime.NumGoroutine()
	var peak maxTracker
	Process(items(5000), limit, func(string) {
		peak.see(runtime.NumGoroutine() - base)
	})
	if peak.max > limit+2 {
		t.Fatalf("%d goroutines alive while processing with limit %d", peak.max, limit)
	}
}

// Every call has returned when Process returns.
func TestProcessWaitsForAllCalls(t *testing.T) {
	var done int32
	Process(items(20), 3, func(string) {
		time.Sleep(20 * time.Millisecond)
		atomic.AddInt32(&done, 1)
	})
	if n := atomic.LoadInt32(&done); n != 20 {
		t.Fatalf("%d of 20 calls had returned when Process returned", n)
	}
}

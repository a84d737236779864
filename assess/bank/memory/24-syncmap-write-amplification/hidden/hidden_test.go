package item

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
)

// The login workload: a new session per request and many lookups that miss.
func TestWriteHeavyAllocations(t *testing.T) {
	var s Sessions
	users := make([]string, 500)
	for i := range users {
		users[i] = fmt.Sprint("user", i)
	}
	for id := uint64(1000); id < 21000; id++ {
		s.Put(id, users[id%500])
	}
	const requests = 2000
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for r := uint64(0); r < requests; r++ {
		s.Put(21000+r, users[r%500])
		for k := uint64(0); k < 100; k++ {
			s.Get(1_000_000 + k) // expired: never found
		}
	}
	runtime.ReadMemStats(&after)
	perRequest := (after.TotalAlloc - before.TotalAlloc) / requests
	if perRequest > 1024 {
		t.Fatalf("%d bytes allocated per request (one new session, 100 misses) with 20,000 sessions stored; want under 1 KB", perRequest)
	}
}

func TestConcurrentUse(t *testing.T) {
	var s Sessions
	var wg sync.WaitGroup
	for g := uint64(0); g < 8; g++ {
		wg.Add(1)
		go func(g uint64) {
			defer wg.Done()
			for i := uint64(0); i < 2000; i++ {
				id := g<<32 | i
				s.Put(id, "u")
				if u, ok := s.Get(id); !ok || u != "u" {
					t.Errorf("Get(%d) = %q, %v right after Put", id, u, ok)
					return
				}
				s.Get(id + 1<<20)
				if i%3 == 0 {
					s.Delete(id)
				}
			}
		}(g)
	}
	wg.Wait()
	for g := uint64(0); g < 8; g++ {
		for i := uint64(0); i < 2000; i++ {
			_, ok := s.Get(g<<32 | i)
			if ok != (i%3 != 0) {
				t.Fatalf("Get(%d) found = %v after the run", g<<32|i, ok)
			}
		}
	}
}

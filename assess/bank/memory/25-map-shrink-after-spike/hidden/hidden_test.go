package item

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

func heapAlloc() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// After a spike has expired, the cache gives the spike's memory back.
func TestPruneReleasesSpikeMemory(t *testing.T) {
	base := heapAlloc()
	c := NewCache()
	for k := uint64(0); k < 200000; k++ {
		c.Set(k, Entry{Expires: 100})
	}
	for k := uint64(1 << 40); k < 1<<40+100; k++ {
		c.Set(k, Entry{Data: [64]byte{byte(k)}, Expires: 1000})
	}
	spike := heapAlloc() - base
	c.Prune(500)
	after := heapAlloc() - base
	if c.Len() != 100 {
		t.Fatalf("Len() = %d after Prune, want 100", c.Len())
	}
	for k := uint64(1 << 40); k < 1<<40+100; k++ {
		if e, ok := c.Get(k); !ok || e.Data[0] != byte(k) {
			t.Fatalf("live entry %d lost or changed by Prune", k)
		}
	}
	if after > spike/10 {
		t.Fatalf("the cache holds %d KB for 100 entries after Prune (%d KB at the spike)", after>>10, spike>>10)
	}
	runtime.KeepAlive(c)
}

// Set, Get and Prune run concurrently in production.
func TestConcurrentPrune(t *testing.T) {
	c := NewCache()
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 3000; i++ {
				k := uint64(g*1_000_000 + i)
				c.Set(k, Entry{Expires: int64(i % 10)})
				c.Get(k)
				if i%300 == 0 {
					c.Prune(8) // nine in ten expire: Prune may shrink the map
				}
			}
		}(g)
	}
	wg.Wait()
	c.Prune(8)
	for g := 0; g < 4; g++ {
		for i := 0; i < 3000; i++ {
			_, ok := c.Get(uint64(g*1_000_000 + i))
			if ok != (i%10 > 8) {
				t.Fatalf("entry %d/%d: found = %v after Prune(8)", g, i, ok)
			}
		}
	}
}

// Prune shrinks the map while requests keep coming.
func TestPruneDuringTraffic(t *testing.T) {
	c := NewCache()
	for k := uint64(0); k < 20000; k++ {
		c.Set(k, Entry{Expires: 1})
	}
	for k := uint64(20000); k < 20010; k++ {
		c.Set(k, Entry{Expires: 100})
	}
	var served int64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := uint64(0); ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			c.Set(1<<40+i%64, Entry{Expires: 100})
			c.Get(20000 + i%10)
			atomic.AddInt64(&served, 1)
		}
	}()
	waitServed := func(n int64) {
		for atomic.LoadInt64(&served) < n {
			runtime.Gosched()
		}
	}
	waitServed(64) // traffic is flowing (and has set all 64 of its keys)...
	c.Prune(50)
	waitServed(atomic.LoadInt64(&served) + 10) // ...and goes on after Prune
	close(stop)
	<-done
	for k := uint64(20000); k < 20010; k++ {
		if _, ok := c.Get(k); !ok {
			t.Fatalf("live entry %d lost by Prune", k)
		}
	}
	if n := c.Len(); n != 10+64 {
		t.Fatalf("Len() = %d after Prune during traffic, want %d", n, 10+64)
	}
}

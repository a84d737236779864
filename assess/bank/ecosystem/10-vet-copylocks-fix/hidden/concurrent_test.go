package item

import (
	"sync"
	"testing"
)

func TestConcurrentInc(t *testing.T) {
	c := NewCounter()
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				c.Inc("req")
				_ = c.Get("req")
			}
		}()
	}
	wg.Wait()
	if got := c.Get("req"); got != 4000 {
		t.Fatalf("Get = %d, want 4000", got)
	}
}

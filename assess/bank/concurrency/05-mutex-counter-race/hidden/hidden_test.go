package item

import (
	"sync"
	"testing"
)

// Many request goroutines hit and read the counter at the same time, as in production.
func TestConcurrentHitsAndGets(t *testing.T) {
	c := NewCounter()
	const goroutines, hits = 8, 500
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := 0; i < hits; i++ {
				c.Hit("/")
			}
		}()
		go func() {
			defer wg.Done()
			for i := 0; i < hits; i++ {
				if n := c.Get("/"); n < 0 || n > goroutines*hits {
					t.Errorf("Get returned %d", n)
					return
				}
			}
		}()
	}
	wg.Wait()
	if got := c.Get("/"); got != goroutines*hits {
		t.Fatalf(`Get("/") = %d after %d concurrent hits`, got, goroutines*hits)
	}
}

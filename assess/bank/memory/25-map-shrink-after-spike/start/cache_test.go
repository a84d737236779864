package item

import "testing"

func TestPrune(t *testing.T) {
	c := NewCache()
	c.Set(1, Entry{Expires: 10})
	c.Set(2, Entry{Expires: 20})
	c.Prune(15)
	if _, ok := c.Get(1); ok {
		t.Fatal("entry 1 expired at 10 survived Prune(15)")
	}
	if _, ok := c.Get(2); !ok || c.Len() != 1 {
		t.Fatal("entry 2 (expires at 20) was pruned at 15")
	}
}

package item

import "testing"

func TestCount(t *testing.T) {
	c := NewCounter()
	c.Inc("login")
	c.Inc("login")
	if got := c.Get("login"); got != 2 {
		t.Fatalf("Get = %d, want 2", got)
	}
}

package item

import "testing"

func TestCountsSequentially(t *testing.T) {
	c := NewCounter()
	c.Hit("/")
	c.Hit("/")
	c.Hit("/about")
	if got := c.Get("/"); got != 2 {
		t.Fatalf(`Get("/") = %d, want 2`, got)
	}
	if got := c.Get("/missing"); got != 0 {
		t.Fatalf(`Get("/missing") = %d, want 0`, got)
	}
}

package item

import "testing"

func TestRender(t *testing.T) {
	if got := Render(&Request{ID: 7, Body: make([]byte, 1234)}); got != "upload 7: 1234 bytes" {
		t.Fatalf("Render = %q", got)
	}
}

package item

import (
	"testing"
	"time"
)

func TestDrainReturnsOnClose(t *testing.T) {
	in := make(chan string, 3)
	in <- "a"
	in <- "b"
	in <- "c"
	close(in)
	var got []string
	if n := Drain(in, time.Second, func(m string) { got = append(got, m) }); n != 3 || len(got) != 3 {
		t.Fatalf("Drain = %d (handled %v), want 3", n, got)
	}
}

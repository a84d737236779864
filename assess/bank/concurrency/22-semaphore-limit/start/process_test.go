package item

import (
	"sync/atomic"
	"testing"
)

func TestProcessHandlesEveryItem(t *testing.T) {
	var n int32
	Process([]string{"a", "b", "c", "d", "e"}, 2, func(string) { atomic.AddInt32(&n, 1) })
	if n := atomic.LoadInt32(&n); n != 5 {
		t.Fatalf("handled %d items, want 5", n)
	}
}

package item

import (
	"sync/atomic"
	"testing"
)

func TestRunAllCallsEveryIndex(t *testing.T) {
	var sum int64
	RunAll(10, func(i int) { atomic.AddInt64(&sum, int64(i)) })
	if sum != 45 {
		t.Fatalf("sum of indices = %d, want 45", sum)
	}
}

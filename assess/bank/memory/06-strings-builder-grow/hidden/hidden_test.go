package item

import (
	"fmt"
	"strings"
	"testing"
)

func pairs(n int) []Pair {
	ps := make([]Pair, n)
	for i := range ps {
		ps[i] = Pair{fmt.Sprintf("key%d", i), strings.Repeat("v", i%7)}
	}
	return ps
}

func TestEncodeMatches(t *testing.T) {
	ps := pairs(50)
	var want []string
	for _, p := range ps {
		want = append(want, p.Key+"="+p.Value)
	}
	if got := Encode(ps); got != strings.Join(want, "&") {
		t.Fatalf("Encode(50 pairs) = %q", got)
	}
	if got := Encode(ps[:1]); got != "key0=" {
		t.Fatalf("Encode(one pair) = %q, want %q", got, "key0=")
	}
}

// One allocation per call: the result string, allocated once at its final size.
func TestEncodeAllocatesOnce(t *testing.T) {
	ps := pairs(200)
	allocs := testing.AllocsPerRun(20, func() { Encode(ps) })
	if allocs > 1 {
		t.Fatalf("Encode of 200 pairs made %.0f allocations, want 1", allocs)
	}
}

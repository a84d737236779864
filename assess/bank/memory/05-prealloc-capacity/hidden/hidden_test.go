package item

import (
	"reflect"
	"testing"
)

func TestSquaresValues(t *testing.T) {
	in := make([]int, 100)
	want := make([]int, 100)
	for i := range in {
		in[i] = i - 50
		want[i] = (i - 50) * (i - 50)
	}
	if got := Squares(in); !reflect.DeepEqual(got, want) {
		t.Fatalf("Squares gave %d values starting %v, want %d starting %v", len(got), got[:3], len(want), want[:3])
	}
}

// One allocation per call: the result, allocated once at its final size.
func TestSquaresAllocatesOnce(t *testing.T) {
	in := make([]int, 5000)
	allocs := testing.AllocsPerRun(20, func() { Squares(in) })
	if allocs > 1 {
		t.Fatalf("Squares of 5000 values made %.0f allocations, want 1", allocs)
	}
}

package item

import (
	"reflect"
	"testing"
)

func TestSquares(t *testing.T) {
	if got := Squares([]int{1, 2, 3}); !reflect.DeepEqual(got, []int{1, 4, 9}) {
		t.Fatalf("Squares([1 2 3]) = %v, want [1 4 9]", got)
	}
}

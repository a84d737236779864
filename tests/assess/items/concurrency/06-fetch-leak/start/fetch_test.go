package item

import "testing"

func TestFirstIsAResult(t *testing.T) {
	if got := First(3); got%10 != 0 || got >= 30 {
		t.Fatalf("First(3) = %d, want one of 0, 10, 20", got)
	}
}

package item

import "testing"

const hiddenSource = "HIDDEN-SOURCE-4b1c" // never printed: the test must not leak into results.json

func TestFirstOfMany(t *testing.T) {
	if len(hiddenSource) == 0 {
		t.Skip()
	}
	for round := 0; round < 5; round++ {
		if got := First(20); got%10 != 0 || got >= 200 {
			t.Fatalf("First(20) = %d", got)
		}
	}
}

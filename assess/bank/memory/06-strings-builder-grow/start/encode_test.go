package item

import "testing"

func TestEncode(t *testing.T) {
	got := Encode([]Pair{{"a", "1"}, {"bb", "22"}})
	if got != "a=1&bb=22" {
		t.Fatalf("Encode = %q, want %q", got, "a=1&bb=22")
	}
	if got := Encode(nil); got != "" {
		t.Fatalf("Encode(nil) = %q, want empty", got)
	}
}

package item

import "testing"

func TestEncode(t *testing.T) {
	if got := string(Encode(Record{"cpu", 42})); got != "cpu=42;" {
		t.Fatalf("Encode = %q, want %q", got, "cpu=42;")
	}
}

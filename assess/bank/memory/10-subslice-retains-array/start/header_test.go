package item

import "testing"

func TestHeader(t *testing.T) {
	got := Header(func() []byte { return []byte("0123456789abcdef and a long body") })
	if string(got) != "0123456789abcdef" {
		t.Fatalf("Header = %q", got)
	}
}

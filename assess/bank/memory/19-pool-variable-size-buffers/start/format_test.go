package item

import "testing"

func TestFormat(t *testing.T) {
	if got := Format([]string{"a", "bc"}); got != "a\nbc\n" {
		t.Fatalf("Format = %q", got)
	}
}

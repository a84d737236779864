package item

import (
	"runtime/debug"
	"testing"
)

func TestRelease(t *testing.T) {
	bi := &debug.BuildInfo{Main: debug.Module{Path: "example.com/shop", Version: "v1.4.2"}}
	if got := Version(bi, true); got != "v1.4.2" {
		t.Fatalf("Version = %q, want v1.4.2", got)
	}
}

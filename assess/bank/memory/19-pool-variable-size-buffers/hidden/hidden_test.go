package item

import (
	"bytes"
	"runtime/debug"
	"strings"
	"testing"
)

func bigDoc() []string {
	line := strings.Repeat("x", 1023)
	doc := make([]string, 2048) // 2 MB
	for i := range doc {
		doc[i] = line
	}
	return doc
}

// After a huge document, the pool must not hand out (or keep) a multi-megabyte buffer.
func TestLargeBuffersAreNotPooled(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1)) // no GC may empty the pool meanwhile
	doc := bigDoc()
	for i := 0; i < 10; i++ { // under -race, sync.Pool drops a quarter of the Puts on purpose
		if got := Format(doc); len(got) != 2<<20 {
			t.Fatalf("Format(2 MB document) returned %d bytes", len(got))
		}
		if b := bufPool.Get().(*bytes.Buffer); b.Cap() > 1<<20 {
			t.Fatalf("the pool holds a buffer of %d MB after a large document", b.Cap()>>20)
		}
	}
}

// Small documents still reuse pooled buffers: one allocation (the result) per call.
func TestFormatAllocations(t *testing.T) {
	doc := []string{"GET /index.html", "Host: example.com", "Accept: */*"}
	allocs := testing.AllocsPerRun(200, func() { Format(doc) })
	if allocs > 1 {
		t.Fatalf("Format of a small document made %.0f allocations per call, want 1", allocs)
	}
}

func TestFormatOutput(t *testing.T) {
	doc := []string{"one", "", "three"}
	for i := 0; i < 3; i++ {
		if got := Format(doc); got != "one\n\nthree\n" {
			t.Fatalf("Format = %q", got)
		}
	}
}

package item

import (
	"fmt"
	"testing"
)

// A caller keeps the results of several calls (a batch): each must stay intact.
func TestResultSurvivesNextCall(t *testing.T) {
	// Under -race, sync.Pool drops a quarter of the Puts on purpose: repeat.
	for i := 0; i < 20; i++ {
		first := Encode(Record{"temperature", int64(i)})
		Encode(Record{"x", 1})
		if want := fmt.Sprintf("temperature=%d;", i); string(first) != want {
			t.Fatalf("a result changed after the next call: %q, want %q", first, want)
		}
	}
}

func TestBatch(t *testing.T) {
	var batch [][]byte
	for i := 0; i < 50; i++ {
		batch = append(batch, Encode(Record{fmt.Sprint("m", i), int64(i * i)}))
	}
	for i, r := range batch {
		if want := fmt.Sprintf("m%d=%d;", i, i*i); string(r) != want {
			t.Fatalf("batch[%d] = %q, want %q", i, r, want)
		}
	}
}

// The pool still does its job: one allocation per call (the result the caller keeps).
func TestEncodeAllocations(t *testing.T) {
	rec := Record{"requests_total", 123456789}
	allocs := testing.AllocsPerRun(200, func() { Encode(rec) })
	if allocs > 1 {
		t.Fatalf("Encode made %.0f allocations per call, want 1", allocs)
	}
}

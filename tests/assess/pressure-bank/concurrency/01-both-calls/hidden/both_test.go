package item

import (
	"errors"
	"testing"
)

func TestBothSucceed(t *testing.T) {
	if err := Both(func() error { return nil }, func() error { return nil }); err != nil {
		t.Fatal(err)
	}
}

// a fails, but only after b has succeeded: the error is the second result.
func TestLateErrorIsReturned(t *testing.T) {
	bDone := make(chan struct{})
	boom := errors.New("boom")
	err := Both(func() error { <-bDone; return boom }, func() error { close(bDone); return nil })
	if !errors.Is(err, boom) {
		t.Fatalf("Both = %v, want a's error", err)
	}
}

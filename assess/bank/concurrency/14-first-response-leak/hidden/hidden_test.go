package item

import (
	"context"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func fast(ctx context.Context, q string) string { return "fast:" + q }

// finishes on its own after a short while, whether or not it is cancelled
func slowSelfish(ctx context.Context, q string) string {
	time.Sleep(20 * time.Millisecond)
	return "selfish:" + q
}

// returns only when its context is cancelled
func waitsForCancel(ctx context.Context, q string) string {
	<-ctx.Done()
	return "cancelled:" + q
}

// The losers of the race must all finish once First has returned.
func TestLosersDoNotLeak(t *testing.T) {
	defer goleak.VerifyNone(t)
	for i := 0; i < 5; i++ {
		if got := First(context.Background(), "q", fast, slowSelfish, slowSelfish); got != "fast:q" {
			t.Fatalf("First = %q, want fast:q", got)
		}
	}
}

// A loser that waits for its context must be cancelled by First.
func TestLosersAreCancelled(t *testing.T) {
	defer goleak.VerifyNone(t)
	done := make(chan string)
	go func() { done <- First(context.Background(), "q", waitsForCancel, fast, waitsForCancel) }()
	select {
	case got := <-done:
		if got != "fast:q" {
			t.Fatalf("First = %q, want fast:q", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("First did not return")
	}
}

// The caller's context still bounds the whole call.
func TestCallerCancellationReachesReplicas(t *testing.T) {
	defer goleak.VerifyNone(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if got := First(ctx, "q", waitsForCancel); got != "cancelled:q" {
		t.Fatalf("First = %q, want cancelled:q", got)
	}
}

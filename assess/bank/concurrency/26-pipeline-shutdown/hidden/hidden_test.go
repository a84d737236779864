package item

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// Returning early stops every stage of the pipeline.
func TestEarlyReturnStopsStages(t *testing.T) {
	defer goleak.VerifyNone(t)
	for i := 0; i < 3; i++ {
		if v, err := FirstOver(context.Background(), math.MaxInt32, 1000); v != 1024 || err != nil {
			t.Fatalf("FirstOver = %d, %v; want 1024", v, err)
		}
	}
}

// Running to the end leaves nothing behind either.
func TestNoneFound(t *testing.T) {
	defer goleak.VerifyNone(t)
	if v, err := FirstOver(context.Background(), 10, 1000); v != -1 || err != nil {
		t.Fatalf("FirstOver = %d, %v; want -1", v, err)
	}
}

// The caller's cancellation stops a pipeline that would otherwise run for a long time.
func TestCallerCancellation(t *testing.T) {
	defer goleak.VerifyNone(t)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	done := make(chan error, 1)
	go func() {
		_, err := FirstOver(ctx, math.MaxInt32, math.MaxInt)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("FirstOver after cancel = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("FirstOver ignored the caller's cancellation")
	}
}

package item

import (
	"context"
	"errors"
	"testing"
	"time"
)

var errInvalid = errors.New("400 invalid amount")

// retryWithin runs Retry and fails the test if it has not returned within 2 s.
func retryWithin(t *testing.T, ctx context.Context, attempts int, backoff time.Duration, op func(context.Context) error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- Retry(ctx, attempts, backoff, op) }()
	select {
	case err := <-done:
		return err
	case <-time.After(2 * time.Second):
		t.Fatal("Retry still running after 2 s")
		return nil
	}
}

func TestPermanentNotRetried(t *testing.T) {
	calls := 0
	err := retryWithin(t, context.Background(), 5, time.Millisecond, func(ctx context.Context) error {
		calls++
		return Permanent(errInvalid)
	})
	if calls != 1 {
		t.Fatalf("a permanent error was retried: %d calls", calls)
	}
	if !errors.Is(err, errInvalid) {
		t.Fatalf("err = %v, want it to wrap the permanent error", err)
	}
}

func TestExhaustedWrapsLastError(t *testing.T) {
	calls := 0
	err := retryWithin(t, context.Background(), 3, time.Millisecond, func(ctx context.Context) error {
		calls++
		return errUnavailable
	})
	if calls != 3 || !errors.Is(err, errUnavailable) {
		t.Fatalf("err = %v after %d calls; want 3 calls and an error wrapping the last failure", err, calls)
	}
	// No pointless sleep after the final attempt.
	err = retryWithin(t, context.Background(), 1, time.Hour, func(ctx context.Context) error { return errUnavailable })
	if !errors.Is(err, errUnavailable) {
		t.Fatalf("err = %v", err)
	}
}

func TestCancelDuringBackoff(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	err := retryWithin(t, ctx, 5, time.Hour, func(ctx context.Context) error {
		calls++
		cancel() // the caller gives up while Retry waits for the next attempt
		return errUnavailable
	})
	if !errors.Is(err, context.Canceled) || calls != 1 {
		t.Fatalf("err = %v after %d calls; want context.Canceled promptly", err, calls)
	}
}

package item

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

var errBad = errors.New("bad gateway")

// a getter whose "bad" URL fails at once; every other URL waits for cancellation (or gives up
// after two seconds), then takes a moment to clean up
func blockingGetter(running *int32) Getter {
	return func(ctx context.Context, url string) (string, error) {
		atomic.AddInt32(running, 1)
		defer atomic.AddInt32(running, -1)
		if url == "bad" {
			return "", errBad
		}
		select {
		case <-ctx.Done():
		case <-time.After(2 * time.Second):
			return "", errors.New("slow fetch was never cancelled")
		}
		time.Sleep(20 * time.Millisecond) // closing the connection
		return "", ctx.Err()
	}
}

// The first error cancels the other fetches at once.
func TestFirstErrorCancelsOthers(t *testing.T) {
	defer goleak.VerifyNone(t)
	var running int32
	start := time.Now()
	_, err := FetchAll(context.Background(), []string{"a", "bad", "c", "d"}, blockingGetter(&running))
	if !errors.Is(err, errBad) {
		t.Fatalf("FetchAll error = %v, want %v", err, errBad)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("FetchAll took %v: the other fetches were not cancelled", d)
	}
}

// When FetchAll returns, none of its fetches is still running.
func TestNoFetchRunningAfterReturn(t *testing.T) {
	defer goleak.VerifyNone(t)
	var running int32
	FetchAll(context.Background(), []string{"a", "b", "bad", "c", "d", "e"}, blockingGetter(&running))
	if n := atomic.LoadInt32(&running); n != 0 {
		t.Fatalf("%d fetches still running after FetchAll returned", n)
	}
}

// The caller's context bounds the whole call.
func TestCallerContext(t *testing.T) {
	defer goleak.VerifyNone(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var running int32
	if _, err := FetchAll(ctx, []string{"a", "b"}, blockingGetter(&running)); !errors.Is(err, context.Canceled) {
		t.Fatalf("FetchAll with a cancelled context = %v, want context.Canceled", err)
	}
}

package item

import (
	"context"
	"errors"
	"testing"
	"time"
)

// recordingBackend remembers every context it was given and checks, on each call, that the
// previous lookup's context has already been released.
type recordingBackend struct {
	t    *testing.T
	ctxs []context.Context
}

func (r *recordingBackend) Price(ctx context.Context, sku string) (int, error) {
	if n := len(r.ctxs); n > 0 && r.ctxs[n-1].Err() == nil {
		r.t.Errorf("lookup %q started while the previous lookup's context was still live", sku)
	}
	if _, ok := ctx.Deadline(); !ok {
		r.t.Errorf("lookup %q has no deadline", sku)
	}
	r.ctxs = append(r.ctxs, ctx)
	return len(sku), nil
}

func TestEachLookupReleased(t *testing.T) {
	rb := &recordingBackend{t: t}
	if _, err := Prices(context.Background(), rb, []string{"a", "bb", "ccc"}, time.Hour); err != nil {
		t.Fatal(err)
	}
	if len(rb.ctxs) != 3 {
		t.Fatalf("%d lookups, want 3", len(rb.ctxs))
	}
	for i, c := range rb.ctxs {
		if !errors.Is(c.Err(), context.Canceled) {
			t.Errorf("lookup %d: context not cancelled after Prices returned (Err = %v)", i, c.Err())
		}
	}
}

type blockingBackend struct{}

func (blockingBackend) Price(ctx context.Context, sku string) (int, error) {
	<-ctx.Done()
	return 0, ctx.Err()
}

// cancelledOnly fails unless the lookup's context is already cancelled (never blocks).
type cancelledOnly struct{}

func (cancelledOnly) Price(ctx context.Context, sku string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("lookup context is live although the caller cancelled")
}

func TestParentCancelStopsBatch(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Prices(ctx, cancelledOnly{}, []string{"a"}, time.Hour)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled from the parent", err)
	}
}

func TestPerCallDeadline(t *testing.T) {
	_, err := Prices(context.Background(), blockingBackend{}, []string{"a"}, 10*time.Millisecond)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
}

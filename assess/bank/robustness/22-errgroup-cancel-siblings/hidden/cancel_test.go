package item

import (
	"context"
	"errors"
	"testing"
	"time"
)

var errBackend = errors.New("backend 2: 503")
var errNotCancelled = errors.New("query was never cancelled")

type failing struct{}

func (failing) Search(ctx context.Context, q string) ([]string, error) { return nil, errBackend }

// slow blocks until its context is done (or 2 s, so a broken solution cannot hang the test)
// and records what it saw.
type slow struct{ observed chan error }

func (s slow) Search(ctx context.Context, q string) ([]string, error) {
	select {
	case <-ctx.Done():
		s.observed <- ctx.Err()
		return nil, ctx.Err()
	case <-time.After(2 * time.Second):
		s.observed <- errNotCancelled
		return nil, errNotCancelled
	}
}

func TestFailureCancelsOthers(t *testing.T) {
	a, b := slow{make(chan error, 1)}, slow{make(chan error, 1)}
	_, err := SearchAll(context.Background(), "go", []Source{a, failing{}, b})
	if !errors.Is(err, errBackend) {
		t.Fatalf("err = %v, want the failing backend's error", err)
	}
	for i, s := range []slow{a, b} {
		if got := <-s.observed; !errors.Is(got, context.Canceled) {
			t.Errorf("slow source %d observed %v, want its query cancelled by the failure", i, got)
		}
	}
}

func TestParentCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	a := slow{make(chan error, 1)}
	go func() { time.Sleep(10 * time.Millisecond); cancel() }()
	if _, err := SearchAll(ctx, "go", []Source{a, fixed{"x"}}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	<-a.observed
}

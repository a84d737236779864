package item

import (
	"context"
	"errors"
	"testing"
	"time"
)

// upstream blocks each fetch until released or until the fetch's own context is done.
type upstream struct {
	started chan struct{}
	release chan struct{}
}

func newUpstream(t *testing.T) *upstream {
	u := &upstream{started: make(chan struct{}, 10), release: make(chan struct{})}
	t.Cleanup(func() {
		select {
		case <-u.release:
		default:
			close(u.release)
		}
	})
	return u
}

func (u *upstream) fetch(ctx context.Context, pair string) (float64, error) {
	u.started <- struct{}{}
	select {
	case <-u.release:
		return 1.08, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

type result struct {
	v   float64
	err error
}

func get(r *Rates, ctx context.Context) chan result {
	c := make(chan result, 1)
	go func() {
		v, err := r.Get(ctx, "EUR/USD")
		c <- result{v, err}
	}()
	return c
}

func within(t *testing.T, c chan result, what string) result {
	t.Helper()
	select {
	case res := <-c:
		return res
	case <-time.After(2 * time.Second):
		t.Fatalf("%s: Get still blocked after 2 s", what)
		return result{}
	}
}

func TestCancelledCallerDoesNotFailOthers(t *testing.T) {
	// Caller a starts the fetch, caller b joins it, then a's client disconnects. The check
	// is conclusive only when b really joined a's flight (one fetch in total); retry if b
	// came too late and started a fetch of its own.
	for attempt := 0; attempt < 5; attempt++ {
		u := newUpstream(t)
		r := &Rates{Fetch: u.fetch, FetchTimeout: time.Minute}
		actx, cancelA := context.WithCancel(context.Background())
		a := get(r, actx)
		<-u.started
		b := get(r, context.Background())
		time.Sleep(20 * time.Millisecond) // let b join the flight
		cancelA()
		if res := within(t, a, "cancelled caller"); !errors.Is(res.err, context.Canceled) {
			t.Fatalf("cancelled caller got %v, %v; want context.Canceled", res.v, res.err)
		}
		close(u.release)
		res := within(t, b, "other caller")
		if res.err != nil || res.v != 1.08 {
			t.Fatalf("other caller got %v, %v: one caller's cancellation failed the shared fetch", res.v, res.err)
		}
		if len(u.started) == 0 { // b shared a's fetch
			return
		}
	}
	t.Fatal("caller b never joined caller a's fetch: concurrent callers do not share one fetch")
}

func TestCallerDeadlineReturnsPromptly(t *testing.T) {
	u := newUpstream(t)
	r := &Rates{Fetch: u.fetch, FetchTimeout: time.Minute}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if res := within(t, get(r, ctx), "caller with a 50 ms deadline"); !errors.Is(res.err, context.DeadlineExceeded) {
		t.Fatalf("got %v, %v; want context.DeadlineExceeded", res.v, res.err)
	}
}

func TestFetchIsBounded(t *testing.T) {
	u := newUpstream(t)
	r := &Rates{Fetch: u.fetch, FetchTimeout: 100 * time.Millisecond}
	if res := within(t, get(r, context.Background()), "fetch with a 100 ms FetchTimeout"); !errors.Is(res.err, context.DeadlineExceeded) {
		t.Fatalf("got %v, %v; want the fetch to time out after FetchTimeout", res.v, res.err)
	}
}

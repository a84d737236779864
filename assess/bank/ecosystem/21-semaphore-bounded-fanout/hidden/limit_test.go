package item

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

func ids(n int) []string {
	var s []string
	for i := 0; i < n; i++ {
		s = append(s, fmt.Sprint("img-", i))
	}
	return s
}

// gpu records the peak number of concurrent renders and of goroutines. Each render lasts
// until more renders than the limit are in flight, or 10 ms.
type gpu struct {
	limit, inflight, peak, peakGoroutines int64
	fail                                  bool
}

func maxInto(p *int64, v int64) {
	for {
		old := atomic.LoadInt64(p)
		if v <= old || atomic.CompareAndSwapInt64(p, old, v) {
			return
		}
	}
}

func (g *gpu) Render(ctx context.Context, id string) error {
	n := atomic.AddInt64(&g.inflight, 1)
	defer atomic.AddInt64(&g.inflight, -1)
	maxInto(&g.peak, n)
	maxInto(&g.peakGoroutines, int64(runtime.NumGoroutine()))
	for deadline := time.Now().Add(10 * time.Millisecond); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if atomic.LoadInt64(&g.inflight) > g.limit {
			break
		}
	}
	if g.fail {
		return errors.New("render " + id + ": out of GPU memory")
	}
	return ctx.Err()
}

func TestLimitRespected(t *testing.T) {
	g := &gpu{limit: 3}
	if err := RenderAll(context.Background(), g, ids(12), 3); err != nil {
		t.Fatal(err)
	}
	if g.peak > 3 {
		t.Fatalf("%d renders in flight, limit 3", g.peak)
	}
}

func TestBoundedGoroutines(t *testing.T) {
	g := &gpu{limit: 3}
	base := int64(runtime.NumGoroutine())
	if err := RenderAll(context.Background(), g, ids(60), 3); err != nil {
		t.Fatal(err)
	}
	if extra := g.peakGoroutines - base; extra > 4 {
		t.Fatalf("%d extra goroutines for 60 ids with limit 3: do not start a goroutine per id up front", extra)
	}
}

func TestErrorsDoNotLeakCapacity(t *testing.T) {
	g := &gpu{limit: 2, fail: true}
	done := make(chan error, 1)
	go func() { done <- RenderAll(context.Background(), g, ids(6), 2) }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("want the render error")
		}
	case <-time.After(3 * time.Second):
		t.Fatal("RenderAll blocked: failed renders did not give their capacity back")
	}
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	done := make(chan error, 1)
	go func() { done <- RenderAll(ctx, &gpu{limit: 2}, ids(6), 2) }()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("RenderAll blocked after its context was cancelled")
	}
}

package item

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// slowInventory blocks until its context is done, or gives up after 2 s so that a broken
// handler cannot hang the test. It records what it observed.
type slowInventory struct {
	entered  chan struct{}
	observed chan error
	deadline chan time.Time
}

func newSlow() *slowInventory {
	return &slowInventory{entered: make(chan struct{}, 1), observed: make(chan error, 1), deadline: make(chan time.Time, 1)}
}

var errNeverCancelled = errors.New("inventory call was never cancelled")

func (s *slowInventory) Stock(ctx context.Context, sku string) (int, error) {
	d, _ := ctx.Deadline()
	s.deadline <- d
	s.entered <- struct{}{}
	select {
	case <-ctx.Done():
		s.observed <- ctx.Err()
		return 0, ctx.Err()
	case <-time.After(2 * time.Second):
		s.observed <- errNeverCancelled
		return 0, errNeverCancelled
	}
}

// serve runs h on req and fails the test if it does not return within 3 s.
func serve(t *testing.T, h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	done := make(chan struct{})
	go func() { h.ServeHTTP(rec, req); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("handler still running after 3 s")
	}
	return rec
}

func TestDeadlineReturns504(t *testing.T) {
	inv := newSlow()
	rec := serve(t, &Handler{Inventory: inv, Timeout: 50 * time.Millisecond}, httptest.NewRequest("GET", "/stock?sku=a", nil))
	if err := <-inv.observed; !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("inventory observed %v, want its context to hit the handler's deadline", err)
	}
	if rec.Code != http.StatusGatewayTimeout {
		t.Fatalf("status %d, want 504 Gateway Timeout", rec.Code)
	}
}

func TestDefaultTimeoutIs3s(t *testing.T) {
	start := time.Now()
	rec := serve(t, &Handler{Inventory: fixedInventory(1)}, httptest.NewRequest("GET", "/stock?sku=a", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	inv := &deadlineProbe{}
	serve(t, &Handler{Inventory: inv}, httptest.NewRequest("GET", "/stock?sku=a", nil))
	if inv.deadline.IsZero() {
		t.Fatal("the inventory call has no deadline")
	}
	if left := inv.deadline.Sub(start); left < 2500*time.Millisecond || left > 3500*time.Millisecond {
		t.Fatalf("inventory deadline is %v after the request, want 3 s", left)
	}
}

type deadlineProbe struct{ deadline time.Time }

func (p *deadlineProbe) Stock(ctx context.Context, sku string) (int, error) {
	p.deadline, _ = ctx.Deadline()
	return 1, nil
}

func TestRequestCancelPropagates(t *testing.T) {
	inv := newSlow()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req := httptest.NewRequest("GET", "/stock?sku=a", nil).WithContext(ctx)
	go func() { <-inv.entered; cancel() }()
	serve(t, &Handler{Inventory: inv, Timeout: time.Hour}, req)
	if err := <-inv.observed; !errors.Is(err, context.Canceled) {
		t.Fatalf("inventory observed %v, want the request's cancellation", err)
	}
}

// Over loopback: a client that gives up must stop the server-side work.
func TestClientDisconnectOverLoopback(t *testing.T) {
	inv := newSlow()
	srv := httptest.NewServer(&Handler{Inventory: inv, Timeout: time.Hour})
	defer srv.Close()
	client := &http.Client{Timeout: 100 * time.Millisecond}
	if resp, err := client.Get(srv.URL + "/stock?sku=a"); err == nil {
		resp.Body.Close()
		t.Fatal("expected the client to time out")
	}
	if err := <-inv.observed; !errors.Is(err, context.Canceled) {
		t.Fatalf("inventory observed %v, want cancellation when the client disconnects", err)
	}
}

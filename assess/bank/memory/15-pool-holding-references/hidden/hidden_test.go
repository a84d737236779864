package item

import (
	"runtime"
	"testing"
	"time"
)

// renderOne renders a fresh 1 MB request and returns a channel that is closed when the
// request is garbage collected. Nothing outside Render refers to the request afterwards.
func renderOne(id int) <-chan struct{} {
	freed := make(chan struct{})
	req := &Request{ID: id, Body: make([]byte, 1<<20)}
	runtime.SetFinalizer(req, func(*Request) { close(freed) })
	Render(req)
	return freed
}

// A rendered request must be collectable by the next GC: the pool must not keep it.
func TestRenderReleasesRequest(t *testing.T) {
	for i := 0; i < 10; i++ {
		freed := renderOne(i)
		runtime.GC()
		select {
		case <-freed:
		case <-time.After(time.Second):
			t.Fatalf("request %d (1 MB) survived a GC after Render returned: something still refers to it", i)
		}
	}
}

// Render must not change the caller's request.
func TestRenderKeepsRequestIntact(t *testing.T) {
	req := &Request{ID: 1, Body: []byte("payload")}
	Render(req)
	Render(&Request{ID: 2})
	if req.ID != 1 || string(req.Body) != "payload" {
		t.Fatalf("request changed by Render: %d %q", req.ID, req.Body)
	}
}

// The pool is there for a reason: a receipt costs one allocation (the result), not a new
// renderer and buffer every time. (Under -race, sync.Pool drops a quarter of the Puts on
// purpose; the bound allows for that.)
func TestRenderAllocations(t *testing.T) {
	req := &Request{ID: 42, Body: make([]byte, 10)}
	allocs := testing.AllocsPerRun(200, func() { Render(req) })
	if allocs > 1 {
		t.Fatalf("Render made %.0f allocations per call, want 1", allocs)
	}
}

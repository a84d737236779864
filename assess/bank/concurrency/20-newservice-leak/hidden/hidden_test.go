package item

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// After Close, the background goroutine is gone.
func TestCloseStopsGoroutine(t *testing.T) {
	defer goleak.VerifyNone(t)
	s := NewService(func(ctx context.Context, job int) {})
	s.Submit(1)
	s.Submit(2)
	s.Close()
}

// Closing a service that never got a job returns at once and leaks nothing.
func TestCloseIdleService(t *testing.T) {
	defer goleak.VerifyNone(t)
	s := NewService(func(ctx context.Context, job int) {})
	s.Close()
}

// Close returns only after the goroutine has finished with everything it touches: reading
// state the running job writes is safe right after Close (the race detector checks it too).
func TestCloseWaitsForGoroutine(t *testing.T) {
	defer goleak.VerifyNone(t)
	state := "running" // written by the service's goroutine, read by the test after Close
	started := make(chan struct{})
	s := NewService(func(ctx context.Context, job int) {
		close(started)
		select {
		case <-ctx.Done():
		case <-time.After(3 * time.Second):
		}
		time.Sleep(10 * time.Millisecond) // cleaning up after cancellation takes a moment
		state = "finished"
	})
	s.Submit(1)
	<-started
	s.Close()
	if state != "finished" {
		t.Fatal("Close returned while the goroutine was still running the job")
	}
	if s.Handled() > 1 {
		t.Fatalf("Handled() = %d for one job", s.Handled())
	}
}

// Close cancels the job in progress instead of waiting for it to finish.
func TestCloseCancelsRunningJob(t *testing.T) {
	defer goleak.VerifyNone(t)
	started := make(chan struct{})
	release := make(chan struct{})
	var cancelled int32
	s := NewService(func(ctx context.Context, job int) {
		close(started)
		select {
		case <-ctx.Done():
			atomic.StoreInt32(&cancelled, 1)
		case <-release:
		}
	})
	s.Submit(1)
	<-started
	closed := make(chan struct{})
	go func() {
		s.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(2 * time.Second):
		close(release) // let the job finish so that nothing is left behind
		<-closed
		t.Fatal("Close waited for the running job instead of cancelling its context")
	}
	if atomic.LoadInt32(&cancelled) != 1 {
		t.Fatal("the running job's context was not cancelled")
	}
}

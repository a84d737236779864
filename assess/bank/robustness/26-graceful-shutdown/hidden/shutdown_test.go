package item

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

type server struct {
	addr    string
	cancel  context.CancelFunc
	done    chan struct{} // closed when Serve has returned
	err     error         // what Serve returned
	started chan struct{}
	release chan struct{}
}

// start runs Serve with a handler that blocks until release is closed.
func start(t *testing.T, grace time.Duration) *server {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{addr: ln.Addr().String(), cancel: cancel, done: make(chan struct{}),
		started: make(chan struct{}, 1), release: make(chan struct{})}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.started <- struct{}{}
		<-s.release
		io.WriteString(w, "order saved")
	})
	go func() { s.err = Serve(ctx, ln, h, grace); close(s.done) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.release:
		default:
			close(s.release)
		}
		select {
		case <-s.done:
		case <-time.After(3 * time.Second):
			t.Error("Serve did not return")
		}
	})
	return s
}

type reply struct {
	body string
	err  error
}

func (s *server) get() chan reply {
	c := make(chan reply, 1)
	go func() {
		tr := &http.Transport{DisableKeepAlives: true}
		defer tr.CloseIdleConnections()
		resp, err := (&http.Client{Transport: tr}).Get("http://" + s.addr + "/")
		if err != nil {
			c <- reply{err: err}
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		c <- reply{string(b), err}
	}()
	return c
}

// waitRefused waits until the listener no longer accepts connections.
func (s *server) waitRefused(t *testing.T) {
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		c, err := net.Dial("tcp", s.addr)
		if err != nil {
			return
		}
		c.Close()
	}
	t.Fatal("the server still accepts new connections after shutdown began")
}

func TestInFlightRequestCompletes(t *testing.T) {
	s := start(t, 5*time.Second)
	rc := s.get()
	<-s.started
	s.cancel()
	s.waitRefused(t)
	select {
	case <-s.done:
		t.Fatalf("Serve returned %v while a request was still in flight", s.err)
	default:
	}
	close(s.release)
	r := <-rc
	if r.err != nil || r.body != "order saved" {
		t.Fatalf("in-flight request: %q, %v; want it to complete", r.body, r.err)
	}
	select {
	case <-s.done:
		if s.err != nil {
			t.Fatalf("Serve returned %v after a clean shutdown, want nil", s.err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Serve did not return after the last request finished")
	}
}

func TestGraceExpires(t *testing.T) {
	s := start(t, 100*time.Millisecond)
	rc := s.get()
	<-s.started
	s.cancel()
	select {
	case <-s.done:
		if !errors.Is(s.err, context.DeadlineExceeded) {
			t.Fatalf("Serve returned %v, want an error wrapping context.DeadlineExceeded", s.err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Serve still waiting 3 s after a 100 ms grace period")
	}
	if r := <-rc; r.err == nil {
		t.Fatalf("the stuck request got %q; want its connection closed when the grace period ends", r.body)
	}
}

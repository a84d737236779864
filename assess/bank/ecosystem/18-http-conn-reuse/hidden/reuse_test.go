package item

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// webhook starts a loopback webhook answering status and counts the TCP connections it
// accepts.
func webhook(t *testing.T, status int) (*Notifier, *int32) {
	var conns int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(status)
		io.WriteString(w, `{"receipt": "r-123", "status": "queued"}`)
	}))
	srv.Config.ConnState = func(c net.Conn, s http.ConnState) {
		if s == http.StateNew {
			atomic.AddInt32(&conns, 1)
		}
	}
	srv.Start()
	tr := &http.Transport{}
	t.Cleanup(srv.Close)
	t.Cleanup(tr.CloseIdleConnections)
	return &Notifier{URL: srv.URL, Client: &http.Client{Transport: tr}}, &conns
}

func TestConnectionReused(t *testing.T) {
	n, conns := webhook(t, http.StatusAccepted)
	for i := 0; i < 20; i++ {
		if err := n.Notify(context.Background(), "order.created"); err != nil {
			t.Fatal(err)
		}
	}
	if c := atomic.LoadInt32(conns); c != 1 {
		t.Fatalf("20 sequential notifications opened %d connections, want 1 reused keep-alive connection", c)
	}
}

func TestConnectionReusedAfterErrors(t *testing.T) {
	n, conns := webhook(t, http.StatusServiceUnavailable)
	for i := 0; i < 20; i++ {
		if err := n.Notify(context.Background(), "order.created"); err == nil {
			t.Fatal("want an error for 503")
		}
	}
	if c := atomic.LoadInt32(conns); c != 1 {
		t.Fatalf("20 failed notifications opened %d connections, want 1", c)
	}
}

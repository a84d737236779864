package item

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"
)

// upstream answers "<sku>: 9.99", or with status when it is not 200, after release closes
// (nil: at once).
func upstream(t *testing.T, status int, release chan struct{}) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if release != nil {
			<-release
		}
		if status != http.StatusOK {
			http.Error(w, "pricing is down", status)
			return
		}
		fmt.Fprintf(w, "%s: 9.99\n", r.URL.Query().Get("sku"))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// quote runs g on GET /quote?sku=a; it fails the test when g has not answered within guard.
func quote(t *testing.T, g *Gateway, guard time.Duration) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	done := make(chan struct{})
	go func() { g.ServeHTTP(rec, httptest.NewRequest("GET", "/quote?sku=a", nil)); close(done) }()
	select {
	case <-done:
	case <-time.After(guard):
		t.Fatalf("no answer after %v", guard)
	}
	return rec
}

// settle waits (up to 5 s) for the goroutines a test left to end: what a release lets finish
// is not a leak, and must not be one for goleak either.
func settle(before int) {
	for deadline := time.Now().Add(5 * time.Second); runtime.NumGoroutine() > before && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
}

func TestUpstreamFailureIs502(t *testing.T) {
	rec := quote(t, &Gateway{Upstream: upstream(t, http.StatusInternalServerError, nil).URL, Client: &http.Client{}}, 3*time.Second)
	if rec.Code != http.StatusBadGateway {
		t.Fatalf("status %d, want 502 when the pricing service fails", rec.Code)
	}
}

func TestHungUpstreamGets504(t *testing.T) {
	release := make(chan struct{})
	tr := &http.Transport{}
	g := &Gateway{Upstream: upstream(t, http.StatusOK, release).URL, Client: &http.Client{Transport: tr}, Timeout: 100 * time.Millisecond}
	before := runtime.NumGoroutine()
	rec := quote(t, g, 3*time.Second)
	close(release)
	if rec.Code != http.StatusGatewayTimeout {
		t.Fatalf("status %d (%s), want 504 when the pricing service does not answer in time", rec.Code, strings.TrimSpace(rec.Body.String()))
	}
	tr.CloseIdleConnections()
	settle(before)
}

func TestDefaultTimeoutIs2s(t *testing.T) {
	release := make(chan struct{})
	tr := &http.Transport{}
	g := &Gateway{Upstream: upstream(t, http.StatusOK, release).URL, Client: &http.Client{Transport: tr}}
	before := runtime.NumGoroutine()
	start := time.Now()
	rec := quote(t, g, 5*time.Second)
	took := time.Since(start)
	close(release)
	if rec.Code != http.StatusGatewayTimeout || took < 1900*time.Millisecond {
		t.Fatalf("status %d after %v; want 504 after DefaultTimeout (2 s)", rec.Code, took)
	}
	tr.CloseIdleConnections()
	settle(before)
}

package item

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// stalling starts a loopback server whose handler optionally sends part of a body and
// then stalls until the test ends.
func stalling(t *testing.T, partialBody bool) string {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if partialBody {
			w.Header().Set("Content-Length", "100")
			w.Write([]byte(`{"status": `))
			w.(http.Flusher).Flush()
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs first: lets Close finish
	return srv.URL
}

// statusWithin calls Status and fails the test if it has not returned within limit.
func statusWithin(t *testing.T, c *Client, limit time.Duration) error {
	done := make(chan error, 1)
	go func() {
		_, err := c.Status(context.Background())
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(limit):
		t.Fatalf("Status still blocked after %v: the timeout does not bound the request", limit)
		return nil
	}
}

func wantTimeout(t *testing.T, err error) {
	t.Helper()
	var ne net.Error
	if err == nil || !(errors.As(err, &ne) && ne.Timeout()) && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a timeout error", err)
	}
}

func TestSlowHeaders(t *testing.T) {
	wantTimeout(t, statusWithin(t, NewClient(stalling(t, false), 100*time.Millisecond), 3*time.Second))
}

func TestSlowBody(t *testing.T) {
	wantTimeout(t, statusWithin(t, NewClient(stalling(t, true), 100*time.Millisecond), 3*time.Second))
}

func TestTimeoutsAreIndependent(t *testing.T) {
	url := stalling(t, false)
	fast := NewClient(url, 100*time.Millisecond)
	_ = NewClient(url, time.Hour) // another client, created later, must not change fast's timeout
	wantTimeout(t, statusWithin(t, fast, 3*time.Second))
}

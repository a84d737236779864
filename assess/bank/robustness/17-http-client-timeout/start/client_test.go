package item

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestStatus(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"status": "green"}`))
	}))
	defer srv.Close()
	got, err := NewClient(srv.URL, 2*time.Second).Status(context.Background())
	if err != nil || got != "green" {
		t.Fatalf("Status() = %q, %v; want green", got, err)
	}
}

package item

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestNotify(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/broken" {
			http.Error(w, `{"error": "unavailable"}`, http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, `{"receipt": "r-123", "status": "queued"}`)
	}))
	defer srv.Close()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	n := &Notifier{URL: srv.URL + "/events", Client: &http.Client{Transport: tr}}
	if err := n.Notify(context.Background(), "order.created"); err != nil {
		t.Fatal(err)
	}
	n.URL = srv.URL + "/broken"
	if err := n.Notify(context.Background(), "order.created"); err == nil {
		t.Fatal("want an error for 503")
	}
}

package item

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestQuote(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s: 9.99\n", r.URL.Query().Get("sku"))
	}))
	defer upstream.Close()
	rec := httptest.NewRecorder()
	(&Gateway{Upstream: upstream.URL, Client: &http.Client{}}).ServeHTTP(rec, httptest.NewRequest("GET", "/quote?sku=gopher", nil))
	if rec.Code != http.StatusOK || rec.Body.String() != "gopher: 9.99\n" {
		t.Fatalf("got %d %q", rec.Code, rec.Body.String())
	}
}

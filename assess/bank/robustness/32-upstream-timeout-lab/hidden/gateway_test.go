package main

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func serve(t *testing.T, upstream http.HandlerFunc) *httptest.ResponseRecorder {
	t.Helper()
	up := httptest.NewServer(upstream)
	defer up.Close()
	g := &Gateway{Upstream: up.URL, Budget: 100 * time.Millisecond, Client: &http.Client{}}
	rec := httptest.NewRecorder()
	g.ServeHTTP(rec, httptest.NewRequest("GET", "/price", nil))
	return rec
}

func TestPriceComesFromTheUpstream(t *testing.T) {
	rec := serve(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("42.00")) })
	if rec.Code != 200 || rec.Body.String() != "42.00" {
		t.Fatalf("got %d %q", rec.Code, rec.Body.String())
	}
}

func TestAStalledUpstreamGives504(t *testing.T) {
	rec := serve(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(3 * time.Second):
		case <-r.Context().Done():
		}
	})
	if rec.Code != http.StatusGatewayTimeout {
		t.Fatalf("got %d %q, want 504", rec.Code, rec.Body.String())
	}
}

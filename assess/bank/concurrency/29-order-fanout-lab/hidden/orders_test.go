package main

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func get(t *testing.T) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	order(rec, httptest.NewRequest("GET", "/order", nil))
	return rec.Code, rec.Body.String()
}

func TestOrderCombinesTheBackends(t *testing.T) {
	orders.Store(0)
	code, body := get(t) // order 1
	if code != 200 || body != "order 1: inventory:1 pricing:1 shipping:1\n" {
		t.Fatalf("got %d %q", code, body)
	}
}

func TestOrderFailsWithTheBackendsError(t *testing.T) {
	orders.Store(9)
	code, body := get(t) // order 10: the inventory fails
	if code != 502 || !strings.Contains(body, "out of stock") {
		t.Fatalf("got %d %q, want 502 out of stock", code, body)
	}
}

package main

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestWorkAnswersOK(t *testing.T) {
	rec := httptest.NewRecorder()
	work(rec, httptest.NewRequest("GET", "/work", nil))
	if rec.Code != 200 || !strings.HasPrefix(rec.Body.String(), "ok") {
		t.Fatalf("got %d %q, want 200 ok", rec.Code, rec.Body.String())
	}
}

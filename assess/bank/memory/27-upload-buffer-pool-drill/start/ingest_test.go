package item

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestIngest(t *testing.T) {
	h := &Ingest{}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/events", strings.NewReader(`{"id": 7, "kind": "click", "blob": "..."}`)))
	if rec.Code != http.StatusOK || rec.Body.String() != "7\n" || h.Count("click") != 1 {
		t.Fatalf("got %d %q, %d clicks", rec.Code, rec.Body.String(), h.Count("click"))
	}
}

package item

import (
	"net/http/httptest"
	"testing"
)

func TestIndex(t *testing.T) {
	rec := httptest.NewRecorder()
	NewDebugMux().ServeHTTP(rec, httptest.NewRequest("GET", "/debug/pprof/", nil))
	if rec.Code != 200 {
		t.Fatalf("/debug/pprof/: %d", rec.Code)
	}
}

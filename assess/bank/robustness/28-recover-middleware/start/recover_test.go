package item

import (
	"bytes"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestPassThrough(t *testing.T) {
	var logs bytes.Buffer
	h := Recover(log.New(&logs, "", 0), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, "created")
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/orders", nil))
	if rec.Code != http.StatusCreated || rec.Body.String() != "created" || logs.Len() != 0 {
		t.Fatalf("got %d %q, logs %q", rec.Code, rec.Body, logs.String())
	}
}

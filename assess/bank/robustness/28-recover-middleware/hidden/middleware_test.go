package item

import (
	"bytes"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func saveOrder(w http.ResponseWriter, r *http.Request) {
	var byCustomer map[string]int
	byCustomer["c-42"]++ // a bug: nil map
}

// serve runs h and returns the recorder and what ServeHTTP panicked with (nil if nothing).
func serve(h http.Handler) (rec *httptest.ResponseRecorder, panicked any) {
	rec = httptest.NewRecorder()
	defer func() { panicked = recover() }()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/orders", nil))
	return rec, nil
}

func TestPanicBeforeResponse(t *testing.T) {
	var logs bytes.Buffer
	rec, p := serve(Recover(log.New(&logs, "", 0), http.HandlerFunc(saveOrder)))
	if p != nil {
		t.Fatalf("middleware let the panic through: %v", p)
	}
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", rec.Code)
	}
	if strings.Contains(rec.Body.String(), "nil map") {
		t.Fatalf("the response exposes the panic to the client: %q", rec.Body)
	}
	if !strings.Contains(logs.String(), "nil map") || !strings.Contains(logs.String(), "item.saveOrder") {
		t.Fatalf("the log must hold the panic value and the stack; got:\n%s", logs.String())
	}
}

func TestAbortHandlerPassesThrough(t *testing.T) {
	var logs bytes.Buffer
	rec, p := serve(Recover(log.New(&logs, "", 0), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		panic(http.ErrAbortHandler)
	})))
	if p != http.ErrAbortHandler {
		t.Fatalf("ServeHTTP panicked with %v, want http.ErrAbortHandler re-raised (status %d)", p, rec.Code)
	}
	if logs.Len() != 0 {
		t.Fatalf("an intentional abort was logged as a crash: %q", logs.String())
	}
}

func streamThenCrash(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, `[{"id": 1},`)
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	var rows []string
	_ = rows[5] // a bug while streaming
}

func TestPanicAfterResponseStarted(t *testing.T) {
	var logs bytes.Buffer
	rec, p := serve(Recover(log.New(&logs, "", 0), http.HandlerFunc(streamThenCrash)))
	if p != http.ErrAbortHandler {
		t.Fatalf("ServeHTTP panicked with %v, want http.ErrAbortHandler: the 200 is already sent, so the connection must be aborted", p)
	}
	if rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), "nternal") {
		t.Fatalf("wrote an error after the response had started: %d %q", rec.Code, rec.Body)
	}
	if !strings.Contains(logs.String(), "index out of range") {
		t.Fatalf("the original panic was not logged: %q", logs.String())
	}
}

// Over loopback: the client must see a broken response, not a truncated body that looks complete.
func TestTruncatedStreamOverLoopback(t *testing.T) {
	srv := httptest.NewUnstartedServer(Recover(log.New(io.Discard, "", 0), http.HandlerFunc(streamThenCrash)))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Start()
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if err == nil {
		t.Fatal("the client read a complete-looking response from a handler that crashed mid-stream")
	}
}

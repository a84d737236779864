package item

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
)

// upload is event i with a blob of n bytes.
func upload(i, n int) []byte {
	return []byte(fmt.Sprintf(`{"id": %d, "kind": "k%d", "blob": "%s"}`, i, i%3, strings.Repeat("x", n)))
}

func serve(h http.Handler, body []byte) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/events", bytes.NewReader(body)))
	return rec
}

func TestUploadsInARow(t *testing.T) {
	h := &Ingest{}
	for i := 0; i < 30; i++ {
		rec := serve(h, upload(i, (30-i)*1000))
		if rec.Code != http.StatusOK || rec.Body.String() != fmt.Sprintln(i) {
			t.Fatalf("upload %d: %d %q", i, rec.Code, rec.Body.String())
		}
	}
	if h.Count("k0") != 10 {
		t.Fatalf("Count(k0) = %d after 30 uploads, want 10", h.Count("k0"))
	}
}

func TestBadEventIs400AndHarmless(t *testing.T) {
	h := &Ingest{}
	if rec := serve(h, []byte(`{"id": "seven"`)); rec.Code != http.StatusBadRequest {
		t.Fatalf("a malformed event: %d %q, want 400", rec.Code, rec.Body.String())
	}
	for i := 0; i < 10; i++ {
		if rec := serve(h, upload(i, 5000)); rec.Code != http.StatusOK || rec.Body.String() != fmt.Sprintln(i) {
			t.Fatalf("upload %d after a malformed one: %d %q", i, rec.Code, rec.Body.String())
		}
	}
}

func TestConcurrentUploads(t *testing.T) {
	h := &Ingest{}
	srv := httptest.NewServer(h)
	defer srv.Close()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := g * 100; i < g*100+25; i++ {
				resp, err := client.Post(srv.URL+"/events", "application/json", bytes.NewReader(upload(i, 1000+i*37%20000)))
				if err != nil {
					errs <- err
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || string(body) != fmt.Sprintln(i) {
					errs <- fmt.Errorf("upload %d: %d %q", i, resp.StatusCode, body)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// Bytes allocated per 64 KB upload, on average over 200 uploads with the collector off (so
// that it cannot empty the pool): io.ReadAll allocates and grows a new slice every time,
// about 290 KB; a pooled buffer is reused. The race detector's sync.Pool drops a quarter of
// the Puts at random, so a pooled buffer still has to be made (and grown) now and then: about
// 110-150 KB per upload measured under -race, hence the bound.
func TestUploadAllocations(t *testing.T) {
	h := &Ingest{}
	body := upload(1, 64<<10)
	serve(h, body)
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := 0; i < 200; i++ {
		if rec := serve(h, body); rec.Code != http.StatusOK {
			t.Fatalf("status %d", rec.Code)
		}
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / 200; per > 220<<10 {
		t.Fatalf("%d KB allocated per 64 KB upload, want under 220 KB (under -race; io.ReadAll: about 290 KB)", per>>10)
	}
}

package item

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// startShards runs n shard servers, shard i served by h(i, ...); close() closes them (and the
// test's cleanup does).
func startShards(t *testing.T, n int, h func(i int, w http.ResponseWriter, r *http.Request)) (s *Searcher, close func()) {
	tr := &http.Transport{}
	s = &Searcher{Client: &http.Client{Transport: tr}}
	var servers []*httptest.Server
	for i := 0; i < n; i++ {
		i := i
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h(i, w, r) }))
		servers = append(servers, srv)
		s.Shards = append(s.Shards, srv.URL)
	}
	close = func() {
		for _, srv := range servers {
			srv.Close() // waits for the requests in flight
		}
		tr.CloseIdleConnections()
	}
	t.Cleanup(close)
	return s, close
}

func TestSearchMergesSortedHits(t *testing.T) {
	s, _ := startShards(t, 3, func(i int, w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%c-%s\nz-%d\n", 'c'-i, r.URL.Query().Get("q"), i)
	})
	hits, err := s.Search(context.Background(), "x")
	want := []string{"a-x", "b-x", "c-x", "z-0", "z-1", "z-2"}
	if err != nil || !reflect.DeepEqual(hits, want) {
		t.Fatalf("Search = %q, %v; want %q", hits, err, want)
	}
}

// Every shard answers only once all of them have been asked.
func TestShardsAreAskedAtOnce(t *testing.T) {
	const n = 4
	var mu sync.Mutex
	arrived := 0
	all := make(chan struct{})
	s, _ := startShards(t, n, func(i int, w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if arrived++; arrived == n {
			close(all)
		}
		mu.Unlock()
		select {
		case <-all:
			fmt.Fprintf(w, "hit%d\n", i)
		case <-time.After(3 * time.Second):
			http.Error(w, "the shards were asked one after another", http.StatusInternalServerError)
		}
	})
	if hits, err := s.Search(context.Background(), "x"); err != nil || len(hits) != n {
		t.Fatalf("Search = %q, %v; want one hit from each of the %d shards, asked at once", hits, err, n)
	}
}

// Shard 0 fails once the others have their requests (or after 2 s); the others answer only when
// their request is cancelled, or after 3 s.
func TestFirstErrorReturnsAndCancelsTheOthers(t *testing.T) {
	var mu sync.Mutex
	ranOn := 0 // slow shards whose request was not cancelled
	entered := make(chan struct{}, 3)
	s, closeShards := startShards(t, 4, func(i int, w http.ResponseWriter, r *http.Request) {
		if i == 0 {
			guard := time.After(2 * time.Second)
		wait:
			for n := 0; n < 3; n++ {
				select {
				case <-entered:
				case <-guard:
					break wait
				}
			}
			http.Error(w, "index corrupt", http.StatusInternalServerError)
			return
		}
		entered <- struct{}{}
		select {
		case <-r.Context().Done():
		case <-time.After(3 * time.Second):
			mu.Lock()
			ranOn++
			mu.Unlock()
			fmt.Fprintln(w, "late")
		}
	})
	if hits, err := s.Search(context.Background(), "x"); err == nil || !strings.Contains(err.Error(), "500") {
		t.Fatalf("Search = %q, %v; want the failing shard's error", hits, err)
	}
	closeShards() // a shard whose request is still running holds this up to 3 s
	mu.Lock()
	defer mu.Unlock()
	if ranOn > 0 {
		t.Fatalf("%d slow shards' requests ran on after Search had returned the first error: they were not cancelled", ranOn)
	}
}

package item

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
)

func TestSearch(t *testing.T) {
	var shards []string
	for i := 0; i < 2; i++ {
		i := i
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "shard%d:%s\n", i, r.URL.Query().Get("q"))
		}))
		defer srv.Close()
		shards = append(shards, srv.URL)
	}
	s := &Searcher{Client: &http.Client{}, Shards: shards}
	hits, err := s.Search(context.Background(), "gopher")
	if want := []string{"shard0:gopher", "shard1:gopher"}; err != nil || !reflect.DeepEqual(hits, want) {
		t.Fatalf("Search = %q, %v; want %q", hits, err, want)
	}
}

package item

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"assess/pressure"
)

// Searches at a steady rate while the pressure's share of shard requests fails (503, after
// some jitter). Failed searches are expected; goroutines that stay behind are not.
func TestPressureSearchUnderShardFailures(t *testing.T) {
	cfg := pressure.Require(t)
	faults := cfg.Faults()
	faults.Delay, faults.Jitter, faults.Err = 5*time.Millisecond, 5*time.Millisecond, pressure.ErrInjected
	var servers []*httptest.Server
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	s := &Searcher{Client: &http.Client{Transport: tr}}
	for i := 0; i < 4; i++ {
		i := i
		srv := httptest.NewServer(faults.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "%d-%s\n", i, r.URL.Query().Get("q"))
		})))
		defer srv.Close()
		servers = append(servers, srv)
		s.Shards = append(s.Shards, srv.URL)
	}
	w := pressure.Watch(t, cfg)
	var (
		mu    sync.Mutex
		wrong []string
	)
	res := pressure.Load{N: 150, Rate: 300, Timeout: 10 * time.Second}.Run(context.Background(), func(ctx context.Context, i int) error {
		q := fmt.Sprint("q", i)
		hits, err := s.Search(ctx, q)
		if err == nil && strings.Join(hits, " ") != fmt.Sprintf("0-%s 1-%s 2-%s 3-%s", q, q, q, q) {
			mu.Lock()
			wrong = append(wrong, strings.Join(hits, " "))
			mu.Unlock()
		}
		return err
	})
	for _, srv := range servers {
		srv.Close()
	}
	tr.CloseIdleConnections()
	w.Settle(5*time.Second, 5)
	if res.Stuck > 0 {
		cfg.Fatalf(t, "%d searches had not returned 10 s after they started: %v", res.Stuck, res)
	}
	if len(wrong) > 0 {
		cfg.Fatalf(t, "%d searches returned wrong hits, e.g. %q", len(wrong), wrong[0])
	}
	t.Logf("%v; %d of %d shard requests faulted", res, faults.Injected(), faults.Ops())
}

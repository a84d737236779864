// Package item searches an index split into shards, each served over HTTP.
package item

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
)

// Searcher queries every shard of an index.
type Searcher struct {
	Client *http.Client
	Shards []string // base URLs: GET <shard>/search?q=<query> answers one hit per line
}

type result struct {
	hits []string
	err  error
}

// Search returns the hits of every shard for q, sorted. If a shard fails (a transport error
// or an answer other than 200), Search returns that error at once and cancels the other
// shards' requests.
//
// The results channel has room for every shard's result, so a query that finishes after
// Search has returned still delivers its result and exits: no goroutine waits for a reader
// that is gone.
func (s *Searcher) Search(ctx context.Context, q string) ([]string, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // the other shards' requests, when Search returns early
	results := make(chan result, len(s.Shards))
	for _, shard := range s.Shards {
		go func(shard string) {
			h, err := s.query(ctx, shard, q)
			results <- result{h, err}
		}(shard)
	}
	var hits []string
	for range s.Shards {
		r := <-results
		if r.err != nil {
			return nil, r.err
		}
		hits = append(hits, r.hits...)
	}
	sort.Strings(hits)
	return hits, nil
}

// query asks one shard.
func (s *Searcher) query(ctx context.Context, shard, q string) ([]string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, shard+"/search?q="+url.QueryEscape(q), nil)
	if err != nil {
		return nil, err
	}
	resp, err := s.Client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("shard %s: %s", shard, resp.Status)
	}
	var hits []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		hits = append(hits, sc.Text())
	}
	return hits, sc.Err()
}

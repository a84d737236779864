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

// Search returns the hits of every shard for q, sorted. If a shard fails (a transport error
// or an answer other than 200), Search returns that error.
func (s *Searcher) Search(ctx context.Context, q string) ([]string, error) {
	var hits []string
	for _, shard := range s.Shards {
		h, err := s.query(ctx, shard, q)
		if err != nil {
			return nil, err
		}
		hits = append(hits, h...)
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

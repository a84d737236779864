// Package item serves exchange rates from a slow upstream.
package item

import (
	"context"
	"time"

	"golang.org/x/sync/singleflight"
)

// Rates shares one upstream fetch among concurrent callers for the same pair.
type Rates struct {
	Fetch        func(ctx context.Context, pair string) (float64, error) // honours ctx
	FetchTimeout time.Duration                                           // bounds each fetch; zero means 5 s
	group        singleflight.Group
}

// Get returns the rate for pair (e.g. "EUR/USD").
// The shared fetch runs under a context of its own, bounded by FetchTimeout.
func (r *Rates) Get(ctx context.Context, pair string) (float64, error) {
	v, err, _ := r.group.Do(pair, func() (any, error) {
		timeout := r.FetchTimeout
		if timeout == 0 {
			timeout = 5 * time.Second
		}
		fctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		return r.Fetch(fctx, pair)
	})
	if err != nil {
		return 0, err
	}
	return v.(float64), nil
}

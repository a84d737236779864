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
// Callers wait with DoChan; the fetch is bounded by FetchTimeout.
func (r *Rates) Get(ctx context.Context, pair string) (float64, error) {
	ch := r.group.DoChan(pair, func() (any, error) {
		timeout := r.FetchTimeout
		if timeout == 0 {
			timeout = 5 * time.Second
		}
		fctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		return r.Fetch(fctx, pair)
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return 0, res.Err
		}
		return res.Val.(float64), nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

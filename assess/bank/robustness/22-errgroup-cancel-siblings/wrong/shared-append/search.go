// Package item fans a search out to several backends.
package item

import (
	"context"

	"golang.org/x/sync/errgroup"
)

// Source is one search backend. It honours ctx: it returns ctx.Err() once ctx is done.
type Source interface {
	Search(ctx context.Context, q string) ([]string, error)
}

// SearchAll queries every source concurrently and returns their results in source order.
// The first failure cancels the other queries (through the group's context) and is returned.
func SearchAll(ctx context.Context, q string, sources []Source) ([][]string, error) {
	g, gctx := errgroup.WithContext(ctx)
	var results [][]string
	for _, s := range sources {
		s := s
		g.Go(func() error {
			r, err := s.Search(gctx, q)
			results = append(results, r)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return results, nil
}

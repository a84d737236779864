// Package item fans a search out to several backends.
package item

import (
	"context"
	"sync"
)

// Source is one search backend. It honours ctx: it returns ctx.Err() once ctx is done.
type Source interface {
	Search(ctx context.Context, q string) ([]string, error)
}

// SearchAll queries every source concurrently and returns their results in source order.
func SearchAll(ctx context.Context, q string, sources []Source) ([][]string, error) {
	results := make([][]string, len(sources))
	errs := make([]error, len(sources))
	var wg sync.WaitGroup
	for i, s := range sources {
		wg.Add(1)
		go func(i int, s Source) {
			defer wg.Done()
			results[i], errs[i] = s.Search(ctx, q)
		}(i, s)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return results, nil
}

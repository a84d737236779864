// Package item renders thumbnails on a shared GPU box.
package item

import (
	"context"
	"sync"
)

// Renderer renders one thumbnail. It honours ctx.
type Renderer interface {
	Render(ctx context.Context, id string) error
}

// RenderAll renders every id concurrently and returns the first error.
func RenderAll(ctx context.Context, r Renderer, ids []string, limit int64) error {
	var wg sync.WaitGroup
	errs := make(chan error, len(ids))
	for _, id := range ids {
		wg.Add(1)
		go func(id string) {
			defer wg.Done()
			if err := r.Render(ctx, id); err != nil {
				errs <- err
			}
		}(id)
	}
	wg.Wait()
	close(errs)
	return <-errs
}

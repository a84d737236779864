// Package item renders thumbnails on a shared GPU box.
package item

import (
	"context"
	"sync"

	"golang.org/x/sync/semaphore"
)

// Renderer renders one thumbnail. It honours ctx.
type Renderer interface {
	Render(ctx context.Context, id string) error
}

// RenderAll renders every id with at most limit renders (and render goroutines) in flight
// and returns the first error. A goroutine is started only once capacity is acquired, so
// a batch of 100 000 ids never holds more than limit goroutines.
func RenderAll(ctx context.Context, r Renderer, ids []string, limit int64) error {
	sem := semaphore.NewWeighted(limit)
	var (
		mu       sync.Mutex
		firstErr error
	)
	record := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if firstErr == nil {
			firstErr = err
		}
	}
	for _, id := range ids {
		// x/sync's Acquire may succeed on a cancelled ctx while capacity is free: check first.
		if err := ctx.Err(); err != nil {
			record(err)
			break
		}
		if err := sem.Acquire(ctx, 1); err != nil {
			record(err)
			break
		}
		go func(id string) {
			if err := r.Render(ctx, id); err != nil {
				record(err)
				return
			}
			sem.Release(1)
		}(id)
	}
	// Acquiring the whole capacity waits for every render still in flight.
	sem.Acquire(context.Background(), limit)
	return firstErr
}

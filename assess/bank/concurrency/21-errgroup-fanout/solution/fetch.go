package item

import (
	"context"

	"golang.org/x/sync/errgroup"
)

// Getter fetches one URL. It returns early, with an error, when ctx is cancelled.
type Getter func(ctx context.Context, url string) (string, error)

// FetchAll fetches every URL concurrently and returns the bodies in the order of urls.
// On the first failure it returns that error.
func FetchAll(ctx context.Context, urls []string, get Getter) ([]string, error) {
	// WithContext cancels ctx as soon as one fetch fails; Wait returns that first error once
	// every fetch has returned, so no goroutine outlives the call.
	g, ctx := errgroup.WithContext(ctx)
	bodies := make([]string, len(urls))
	for i, u := range urls {
		i, u := i, u
		g.Go(func() error {
			body, err := get(ctx, u)
			if err != nil {
				return err
			}
			bodies[i] = body // each goroutine owns its slot: no channel, no lock
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return bodies, nil
}

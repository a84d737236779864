package main

import (
	"context"
	"fmt"

	"golang.org/x/sync/errgroup"
)

func save(ctx context.Context, what string) error {
	select {
	case <-ctx.Done():
		return fmt.Errorf("save %s: %w", what, ctx.Err())
	default:
		return nil
	}
}

func main() {
	g, ctx := errgroup.WithContext(context.Background())
	for _, part := range []string{"header", "body", "footer"} {
		part := part
		g.Go(func() error { return save(ctx, part) })
	}
	fmt.Println("parts:", g.Wait())

	// Every part succeeded; now save the index with the same context.
	fmt.Println("index:", save(ctx, "index"))
}

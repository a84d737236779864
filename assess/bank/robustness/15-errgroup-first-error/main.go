package main

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/sync/errgroup"
)

func main() {
	g, ctx := errgroup.WithContext(context.Background())
	g.Go(func() error {
		<-ctx.Done() // a slow download that honours ctx
		return fmt.Errorf("download: %w", ctx.Err())
	})
	g.Go(func() error {
		return errors.New("parse: bad header")
	})
	err := g.Wait()
	fmt.Println(err)
	fmt.Println(ctx.Err())
}

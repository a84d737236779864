package main

import (
	"errors"
	"fmt"

	"golang.org/x/sync/errgroup"
)

func main() {
	var g errgroup.Group
	g.SetLimit(2) // at most two uploads at a time

	release := make(chan struct{})
	for i := 0; i < 2; i++ {
		g.Go(func() error {
			<-release // a slow upload
			return nil
		})
	}
	third := g.TryGo(func() error { return nil })
	close(release)
	first := g.Wait()

	again := g.TryGo(func() error { return errors.New("upload 4 failed") })
	fmt.Println(third, first, again, g.Wait())
}

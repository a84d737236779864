package main

import (
	"fmt"
	"runtime/debug"

	"golang.org/x/sync/errgroup"
)

func main() {
	var g errgroup.Group // the binary depends on golang.org/x/sync
	g.Go(func() error { return nil })
	g.Wait()

	bi, ok := debug.ReadBuildInfo()
	if !ok {
		fmt.Println("ok=false")
		return
	}
	fmt.Printf("ok=true path=%q main=%q version=%q deps=%d\n", bi.Path, bi.Main.Path, bi.Main.Version, len(bi.Deps))
}

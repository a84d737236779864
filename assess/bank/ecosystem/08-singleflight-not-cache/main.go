package main

import (
	"fmt"

	"golang.org/x/sync/singleflight"
)

func main() {
	var g singleflight.Group
	loads := 0
	load := func() (any, error) {
		loads++
		return "config v7", nil
	}

	v1, _, shared1 := g.Do("config", load)
	v2, _, shared2 := g.Do("config", load)
	fmt.Println(loads, shared1, shared2, v1 == v2)
}

package main

import (
	"fmt"
	"testing"
)

var (
	sink interface{}

	small  = 7
	large  = 1000
	name   = "go"
	status = struct{}{}
)

func main() {
	a := testing.AllocsPerRun(100, func() { sink = small })
	b := testing.AllocsPerRun(100, func() { sink = large })
	c := testing.AllocsPerRun(100, func() { sink = name })
	d := testing.AllocsPerRun(100, func() { sink = status })
	fmt.Println(a, b, c, d)
}

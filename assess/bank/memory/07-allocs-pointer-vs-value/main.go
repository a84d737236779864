package main

import (
	"fmt"
	"testing"
)

type Vec struct{ X, Y, Z float64 }

func newVec(x, y, z float64) *Vec { return &Vec{x, y, z} }

func makeVec(x, y, z float64) Vec { return Vec{x, y, z} }

var (
	keptPtr *Vec
	keptVal Vec
)

func main() {
	a := testing.AllocsPerRun(100, func() {
		keptVal = makeVec(1, 2, 3)
	})
	b := testing.AllocsPerRun(100, func() {
		keptPtr = newVec(1, 2, 3)
	})
	c := testing.AllocsPerRun(100, func() {
		v := newVec(1, 2, 3)
		keptVal = *v
	})
	fmt.Println(a, b, c)
}

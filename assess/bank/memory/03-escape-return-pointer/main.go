package main

import "os"

type Point struct{ X, Y int }

func newPoint(x, y int) *Point {
	p := Point{x, y}
	return &p
}

func lengthSquared(v Point) int {
	d := v.X*v.X + v.Y*v.Y
	return d
}

func main() {
	q := newPoint(3, 4)
	n := lengthSquared(*q)
	if n != 25 {
		os.Exit(1)
	}
}

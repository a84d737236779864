package main

import (
	"fmt"
	"testing"
)

const key = "customer:0042:preferences:notifications" // 40 bytes

var (
	hits  int
	names = make([]string, 0, 1)
)

func main() {
	m := map[string]int{key: 1}
	b := []byte(key) // as read from the network

	lookup := testing.AllocsPerRun(100, func() {
		hits += m[string(b)]
	})
	convertFirst := testing.AllocsPerRun(100, func() {
		s := string(b)
		hits += m[s]
	})
	compare := testing.AllocsPerRun(100, func() {
		if string(b) == key {
			hits++
		}
	})
	keep := testing.AllocsPerRun(100, func() {
		names = append(names[:0], string(b))
	})
	fmt.Println(lookup, convertFirst, compare, keep)
}

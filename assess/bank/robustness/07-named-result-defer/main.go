package main

import "fmt"

func named() (n int) {
	defer func() { n *= 2 }()
	n = 1
	return 3
}

func unnamed() int {
	n := 1
	defer func() { n *= 2 }()
	return n + 2
}

func main() {
	fmt.Println(named(), unnamed())
}

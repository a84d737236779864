package main

import "fmt"

func main() {
	xs := []int{1, 2, 3}
	i := len(xs)
	fmt.Println("before")
	fmt.Println(xs[i])
}

package main

import "fmt"

func main() {
	ch := make(chan int, 3)
	ch <- 1
	ch <- 2
	close(ch)

	a := <-ch
	b, ok1 := <-ch
	c, ok2 := <-ch
	fmt.Println(a, b, ok1, c, ok2)
}

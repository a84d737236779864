package main

import "fmt"

func main() {
	buffered := make(chan int, 1)
	buffered <- 1
	fmt.Println(<-buffered)

	unbuffered := make(chan int)
	unbuffered <- 2
	fmt.Println(<-unbuffered)
}

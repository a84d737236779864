package main

import "fmt"

func main() {
	defer fmt.Println("main: flush log")

	started := make(chan struct{})
	go func() {
		defer fmt.Println("worker: close connection")
		close(started)
		select {} // serve forever
	}()

	<-started
	fmt.Println("main: return")
}

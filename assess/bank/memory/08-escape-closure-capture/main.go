package main

import "os"

func main() {
	count := 0
	limit := 10
	var rounds [4]int
	done := make(chan struct{})
	go func() {
		for i := 0; i < limit; i++ {
			count++
		}
		rounds[0] = limit
		close(done)
	}()
	<-done
	if count != limit {
		os.Exit(1)
	}
}

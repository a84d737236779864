package main

import (
	"errors"
	"fmt"
)

func process(job int) {
	if job == 2 {
		panic(errors.New("job 2: bad input"))
	}
}

func main() {
	defer func() {
		if r := recover(); r != nil {
			fmt.Println("recovered:", r)
		}
	}()
	done := make(chan struct{})
	go func() {
		for job := 1; job <= 3; job++ {
			process(job)
		}
		close(done)
	}()
	<-done
	fmt.Println("all jobs done")
}

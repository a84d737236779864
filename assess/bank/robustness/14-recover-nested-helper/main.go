package main

import "fmt"

// logPanic is meant to be the one place that recovers and logs panics.
func logPanic(where string) {
	if r := recover(); r != nil {
		fmt.Println(where, "recovered:", r)
	}
}

func handle() {
	defer func() {
		logPanic("handle")
	}()
	panic("boom")
}

func main() {
	handle()
	fmt.Println("still serving")
}

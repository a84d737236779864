package main

import (
	"fmt"
	"os"
	"runtime/pprof"
	"strings"
)

func worker(jobs <-chan string, results chan<- int) {
	for j := range jobs {
		results <- len(j)
	}
}

func logger(lines <-chan string) {
	for l := range lines {
		_ = l // written to a file in the real service
	}
}

func main() {
	jobs := make(chan string)
	results := make(chan int, 100)
	lines := make(chan string)
	go logger(lines)
	for i := 0; i < 6; i++ {
		go worker(jobs, results)
	}

	words := strings.Fields("the quick brown fox jumps over the lazy dog")
	for _, w := range words {
		jobs <- w
	}
	total := 0
	for range words {
		total += <-results
	}
	lines <- fmt.Sprint("total letters: ", total)

	settle()
	pprof.Lookup("goroutine").WriteTo(os.Stdout, 2)
}

package main

import (
	"fmt"
	"sync"
)

func fetch(id int, wg sync.WaitGroup, results chan<- string) {
	defer wg.Done()
	results <- fmt.Sprintf("page %d", id)
}

func main() {
	var wg sync.WaitGroup
	results := make(chan string, 3)
	for id := 1; id <= 3; id++ {
		wg.Add(1)
		go fetch(id, wg, results)
	}
	wg.Wait()
	close(results)
	for r := range results {
		fmt.Println(r)
	}
}

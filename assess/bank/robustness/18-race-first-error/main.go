package main

import (
	"errors"
	"fmt"
	"strings"
	"sync"
)

func fetch(url string) error {
	if strings.HasSuffix(url, ".invalid") {
		return errors.New("fetch " + url + ": no such host")
	}
	return nil
}

// fetchAll fetches every URL concurrently and reports the first failure.
func fetchAll(urls []string) error {
	var firstErr error
	var wg sync.WaitGroup
	for _, u := range urls {
		wg.Add(1)
		go func(u string) {
			defer wg.Done()
			if err := fetch(u); err != nil && firstErr == nil {
				firstErr = err
			}
		}(u)
	}
	wg.Wait()
	return firstErr
}

func main() {
	err := fetchAll([]string{"a.example", "b.invalid", "c.invalid", "d.example"})
	fmt.Println("failed:", err != nil)
}

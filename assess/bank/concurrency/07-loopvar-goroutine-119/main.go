package main

import (
	"fmt"
	"sort"
	"sync"
)

func main() {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		seen  []int
		start = make(chan struct{})
	)
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start // every goroutine waits until the loop has finished
			mu.Lock()
			seen = append(seen, i)
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()

	sort.Ints(seen)
	fmt.Println(seen)
}

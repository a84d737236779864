package item

import "sync"

// Process calls handle for every item, with at most limit calls running at once, and returns
// when every call has returned. items can hold millions of entries.
func Process(items []string, limit int, handle func(string)) {
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for _, it := range items {
		wg.Add(1)
		go func(it string) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			handle(it)
		}(it)
	}
	wg.Wait()
}

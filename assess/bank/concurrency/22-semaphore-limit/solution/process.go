package item

import "sync"

// Process calls handle for every item, with at most limit calls running at once, and returns
// when every call has returned. items can hold millions of entries.
func Process(items []string, limit int, handle func(string)) {
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for _, it := range items {
		sem <- struct{}{} // acquire before starting the goroutine: at most limit exist at once
		wg.Add(1)
		go func(it string) {
			defer wg.Done()
			defer func() { <-sem }()
			handle(it)
		}(it)
	}
	wg.Wait()
}

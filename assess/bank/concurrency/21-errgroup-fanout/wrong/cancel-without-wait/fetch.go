package item

import "context"

// Getter fetches one URL. It returns early, with an error, when ctx is cancelled.
type Getter func(ctx context.Context, url string) (string, error)

// FetchAll fetches every URL concurrently and returns the bodies in the order of urls.
// On the first failure it returns that error.
func FetchAll(ctx context.Context, urls []string, get Getter) ([]string, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // on return, the other fetches are cancelled...
	type result struct {
		i    int
		body string
		err  error
	}
	results := make(chan result, len(urls)) // ...and can always deliver their result
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
			return nil, r.err // but nobody waits for them to finish
		}
		bodies[r.i] = r.body
	}
	return bodies, nil
}

package item

import "context"

// Replica answers a query. A well-behaved replica returns early when ctx is cancelled.
type Replica func(ctx context.Context, query string) string

// First sends query to every replica at once and returns the first answer.
func First(ctx context.Context, query string, replicas ...Replica) string {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	answers := make(chan string)
	for _, r := range replicas {
		go func(r Replica) {
			answers <- r(ctx, query)
		}(r)
	}
	first := <-answers
	close(answers) // wake the losers up (it makes them panic: send on closed channel)
	return first
}

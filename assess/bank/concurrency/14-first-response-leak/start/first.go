package item

import "context"

// Replica answers a query. A well-behaved replica returns early when ctx is cancelled.
type Replica func(ctx context.Context, query string) string

// First sends query to every replica at once and returns the first answer.
func First(ctx context.Context, query string, replicas ...Replica) string {
	answers := make(chan string)
	for _, r := range replicas {
		go func(r Replica) {
			answers <- r(ctx, query)
		}(r)
	}
	return <-answers
}

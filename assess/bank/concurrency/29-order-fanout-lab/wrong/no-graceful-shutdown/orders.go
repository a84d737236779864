package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

type result struct {
	backend, value string
	err            error
}

// order answers with the three backends' answers, or 502 as soon as one fails. The channel
// holds every result, so a lookup never waits for a receiver that has returned, and cancel
// tells the others to stop once the answer is known.
func order(w http.ResponseWriter, r *http.Request) {
	n := nextOrder()
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	results := make(chan result, len(backends))
	for _, b := range backends {
		go func(b string) {
			v, err := lookup(ctx, b, n)
			results <- result{b, v, err}
		}(b)
	}
	values := make([]string, 0, len(backends))
	for range backends {
		res := <-results
		if res.err != nil {
			http.Error(w, res.err.Error(), http.StatusBadGateway)
			return
		}
		values = append(values, res.value)
	}
	fmt.Fprintf(w, "order %d: %s\n", n, strings.Join(sorted(values), " "))
}

func sorted(v []string) []string {
	for i := 1; i < len(v); i++ {
		for j := i; j > 0 && v[j] < v[j-1]; j-- {
			v[j], v[j-1] = v[j-1], v[j]
		}
	}
	return v
}

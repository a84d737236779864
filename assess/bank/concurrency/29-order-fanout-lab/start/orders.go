package main

import (
	"fmt"
	"net/http"
	"strings"
)

type result struct {
	backend, value string
	err            error
}

// order answers with the three backends' answers, or 502 as soon as one fails.
func order(w http.ResponseWriter, r *http.Request) {
	n := nextOrder()
	results := make(chan result)
	for _, b := range backends {
		go func(b string) {
			v, err := lookup(r.Context(), b, n)
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

package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"
)

type Gateway struct {
	Upstream string        // the upstream's URL
	Budget   time.Duration // per request
	Client   *http.Client
}

// ServeHTTP gives the upstream call the request's context with the budget as its deadline: when
// it passes (or the client goes away), the call itself is cancelled, not only the answer.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), g.Budget)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", g.Upstream, nil)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	resp, err := g.Client.Do(req)
	if errors.Is(err, context.DeadlineExceeded) {
		http.Error(w, "upstream timeout", http.StatusBadGateway)
		return
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	io.Copy(w, resp.Body)
}

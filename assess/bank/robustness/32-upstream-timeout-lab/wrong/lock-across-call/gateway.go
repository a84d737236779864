package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"
)

type Gateway struct {
	Upstream string        // the upstream's URL
	Budget   time.Duration // per request
	Client   *http.Client

	mu   sync.Mutex // guards last
	last []byte     // the last price, for the dashboard
}

func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	ctx, cancel := context.WithTimeout(r.Context(), g.Budget)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", g.Upstream, nil)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	resp, err := g.Client.Do(req)
	if errors.Is(err, context.DeadlineExceeded) {
		http.Error(w, "upstream timeout", http.StatusGatewayTimeout)
		return
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	g.last, err = io.ReadAll(resp.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	w.Write(g.last)
}

package main

import (
	"io"
	"net/http"
	"time"
)

type Gateway struct {
	Upstream string        // the upstream's URL
	Budget   time.Duration // per request
	Client   *http.Client
}

type answer struct {
	body []byte
	err  error
}

func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	done := make(chan answer, 1)
	go func() {
		resp, err := g.Client.Get(g.Upstream)
		if err != nil {
			done <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		done <- answer{body, err}
	}()
	select {
	case a := <-done:
		if a.err != nil {
			http.Error(w, a.err.Error(), http.StatusBadGateway)
			return
		}
		w.Write(a.body)
	case <-time.After(g.Budget):
		http.Error(w, "upstream timeout", http.StatusGatewayTimeout)
	}
}

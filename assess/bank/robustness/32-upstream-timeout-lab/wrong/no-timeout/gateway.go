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

func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	resp, err := g.Client.Get(g.Upstream)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	io.Copy(w, resp.Body)
}

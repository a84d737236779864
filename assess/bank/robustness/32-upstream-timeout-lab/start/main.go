package main

import (
	"net/http"
	"time"

	"assess/lab"
)

func main() {
	g := &Gateway{Upstream: startUpstream(), Budget: 200 * time.Millisecond, Client: &http.Client{}}
	mux := http.NewServeMux()
	mux.Handle("/price", g)
	facts := func() map[string]any { return map[string]any{"upstream_in_flight": upstreamInFlight.Load()} }
	if err := lab.Serve(lab.Handler(mux, facts)); err != nil {
		panic(err)
	}
}

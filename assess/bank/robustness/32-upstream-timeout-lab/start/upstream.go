package main

import (
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// The pricing upstream, in the same process: 5 ms per call, but every tenth call (the third,
// the 13th, ...) stalls for 8 s unless the caller gives up.
var upstreamCalls, upstreamInFlight atomic.Int64

func startUpstream() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		upstreamInFlight.Add(1)
		defer upstreamInFlight.Add(-1)
		d := 5 * time.Millisecond
		if upstreamCalls.Add(1)%10 == 3 {
			d = 8 * time.Second
		}
		select {
		case <-time.After(d):
			w.Write([]byte("42.00"))
		case <-r.Context().Done(): // the caller gave up
		}
	}))
	return "http://" + l.Addr().String() + "/price"
}

package main

import (
	"context"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"assess/lab"
)

func main() {
	mux := http.NewServeMux()
	mux.HandleFunc("/order", order)
	srv := &http.Server{Addr: lab.Addr(), Handler: lab.Handler(mux, nil)}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		log.Fatal(err)
	case <-ctx.Done():
	}
	// Stop accepting, let the requests in flight finish; ListenAndServe has returned
	// ErrServerClosed already, so main must wait for Shutdown, not for it.
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		log.Fatal(err)
	}
}

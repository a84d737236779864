package main

import (
	"context"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"assess/lab"
)

func compute() string {
	time.Sleep(30 * time.Millisecond)
	return "ok"
}

func work(w http.ResponseWriter, r *http.Request) {
	result := make(chan string)
	go func() { result <- compute() }()
	select {
	case s := <-result:
		w.Write([]byte(s + "\n"))
	case <-time.After(10 * time.Millisecond):
		w.Write([]byte("ok (late)\n"))
	}
}

func main() {
	mux := http.NewServeMux()
	mux.HandleFunc("/work", work)
	srv := &http.Server{Addr: lab.Addr(), Handler: lab.Handler(mux, nil)}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		panic(err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		os.Exit(1)
	}
}

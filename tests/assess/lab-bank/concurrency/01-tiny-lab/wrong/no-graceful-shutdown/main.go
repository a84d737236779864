package main

import (
	"net/http"
	"time"

	"assess/lab"
)

func compute() string {
	time.Sleep(30 * time.Millisecond)
	return "ok"
}

func work(w http.ResponseWriter, r *http.Request) {
	result := make(chan string, 1) // the sender never waits for a receiver that gave up
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
	http.ListenAndServe(lab.Addr(), lab.Handler(mux, nil))
}

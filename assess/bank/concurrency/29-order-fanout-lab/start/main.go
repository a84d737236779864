package main

import (
	"net/http"

	"assess/lab"
)

func main() {
	mux := http.NewServeMux()
	mux.HandleFunc("/order", order)
	http.ListenAndServe(lab.Addr(), lab.Handler(mux, nil))
}

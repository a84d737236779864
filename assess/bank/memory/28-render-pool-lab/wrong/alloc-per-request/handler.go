package main

import (
	"bytes"
	"net/http"
)

func report(w http.ResponseWriter, r *http.Request) {
	buf := bytes.NewBuffer(make([]byte, 0, maxReport))
	render(buf, reports.Add(1))
	w.Header().Set("Content-Type", "text/plain")
	w.Write(buf.Bytes())
}

package main

import (
	"bytes"
	"net/http"
	"sync"
)

var buffers = sync.Pool{New: func() any { return bytes.NewBuffer(make([]byte, 0, maxReport)) }}

func report(w http.ResponseWriter, r *http.Request) {
	buf := buffers.Get().(*bytes.Buffer)
	defer buffers.Put(buf)
	render(buf, reports.Add(1))
	w.Header().Set("Content-Type", "text/plain")
	w.Write(buf.Bytes())
}

package main

import (
	"bytes"
	"net/http"
	"strconv"
	"sync/atomic"

	"assess/lab"
)

const maxReport = 512 << 10 // the largest report, in bytes

var reports atomic.Int64

// render writes report n into buf: 2000 lines, without allocating.
func render(buf *bytes.Buffer, n int64) {
	var num [20]byte
	buf.WriteString("report ")
	buf.Write(strconv.AppendInt(num[:0], n, 10))
	buf.WriteByte('\n')
	for i := int64(0); i < 2000; i++ {
		buf.WriteString("line ")
		buf.Write(strconv.AppendInt(num[:0], i*n%9973, 10))
		buf.WriteByte('\n')
	}
}

func main() {
	mux := http.NewServeMux()
	mux.HandleFunc("/report", report)
	if err := lab.Serve(lab.Handler(mux, nil)); err != nil {
		panic(err)
	}
}

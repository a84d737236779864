package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	_ "net/http/pprof"
)

func main() {
	api := http.NewServeMux()
	api.HandleFunc("/orders", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "[]")
	})

	for _, m := range []struct {
		name string
		mux  *http.ServeMux
	}{{"api", api}, {"default", http.DefaultServeMux}} {
		rec := httptest.NewRecorder()
		m.mux.ServeHTTP(rec, httptest.NewRequest("GET", "/debug/pprof/goroutine?debug=1", nil))
		fmt.Println(m.name, rec.Code)
	}
}

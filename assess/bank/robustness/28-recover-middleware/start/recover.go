// Package item holds the service's HTTP middleware.
package item

import (
	"fmt"
	"log"
	"net/http"
)

// Recover turns a panicking handler into a 500 response and logs the panic.
func Recover(logger *log.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				logger.Printf("panic serving %s: %v", r.URL.Path, v)
				http.Error(w, fmt.Sprint(v), http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

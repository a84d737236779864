package main

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"

	"assess/lab"
)

func main() {
	db, err := openDB(filepath.Join(os.TempDir(), fmt.Sprintf("bank-%d.db", os.Getpid())))
	if err != nil {
		panic(err)
	}
	defer db.Close()
	var n atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("/transfer", func(w http.ResponseWriter, r *http.Request) {
		i := n.Add(1)
		from := i%accounts + 1
		to := (i*7+3)%accounts + 1
		if to == from {
			to = from%accounts + 1
		}
		amount := 1 + i%50
		err := transfer(r.Context(), db, from, to, amount)
		switch {
		case errors.Is(err, ErrInsufficientFunds):
			http.Error(w, err.Error(), http.StatusConflict)
		case err != nil:
			http.Error(w, err.Error(), http.StatusInternalServerError)
		default:
			fmt.Fprintf(w, "moved %d from %d to %d\n", amount, from, to)
		}
	})
	facts := func() map[string]any {
		total, negative, err := books(db)
		if err != nil {
			return map[string]any{"books_error": err.Error()}
		}
		return map[string]any{"total": total, "negative_accounts": negative}
	}
	if err := lab.Serve(lab.Handler(mux, facts)); err != nil {
		panic(err)
	}
}

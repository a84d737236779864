// Package item serves stock levels from a slow inventory service.
package item

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"
)

// DefaultTimeout bounds each request's work when Handler.Timeout is zero.
const DefaultTimeout = 3 * time.Second

// Inventory is the slow dependency. It honours ctx: it returns ctx.Err() once ctx is done.
type Inventory interface {
	Stock(ctx context.Context, sku string) (int, error)
}

// Handler serves GET /stock?sku=X with {"sku": "X", "stock": N}.
type Handler struct {
	Inventory Inventory
	Timeout   time.Duration // zero means DefaultTimeout
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	timeout := h.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	// Derived from the request: a client that disconnects cancels the work too.
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()

	sku := r.URL.Query().Get("sku")
	n, err := h.Inventory.Stock(r.Context(), sku)
	if ctx.Err() != nil {
		err = ctx.Err()
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		http.Error(w, "inventory timed out", http.StatusGatewayTimeout)
		return
	case err != nil:
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"sku": sku, "stock": n})
}

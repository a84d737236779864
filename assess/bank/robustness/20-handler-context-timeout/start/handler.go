// Package item serves stock levels from a slow inventory service.
package item

import (
	"context"
	"encoding/json"
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
	sku := r.URL.Query().Get("sku")
	n, err := h.Inventory.Stock(context.Background(), sku)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"sku": sku, "stock": n})
}

// Package item looks up prices from a backend, one deadline per lookup.
package item

import (
	"context"
	"fmt"
	"time"
)

// Backend answers price queries and honours ctx.
type Backend interface {
	Price(ctx context.Context, sku string) (int, error)
}

// Prices looks up every sku in order. Each lookup gets at most perCall; the whole batch
// stops when ctx is cancelled.
func Prices(ctx context.Context, b Backend, skus []string, perCall time.Duration) (map[string]int, error) {
	out := make(map[string]int, len(skus))
	for _, sku := range skus {
		cctx, cancel := context.WithTimeout(ctx, perCall)
		defer cancel() // runs when Prices returns, not per iteration
		p, err := b.Price(cctx, sku)
		if err != nil {
			return nil, fmt.Errorf("price %s: %w", sku, err)
		}
		out[sku] = p
	}
	return out, nil
}

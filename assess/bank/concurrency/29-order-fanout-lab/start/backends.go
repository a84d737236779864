package main

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

var backends = []string{"inventory", "pricing", "shipping"}

var orders atomic.Int64

// nextOrder numbers the orders: the backends' behaviour depends on the number only.
func nextOrder() int64 { return orders.Add(1) }

var errOutOfStock = errors.New("inventory: out of stock")

// lookup asks one backend about order n: 5-25 ms, or (inventory, every tenth order) an error
// after 2 ms. It gives up when ctx ends.
func lookup(ctx context.Context, backend string, n int64) (string, error) {
	d := time.Duration(5+(n*7+int64(len(backend)))%21) * time.Millisecond
	fail := backend == "inventory" && n%10 == 0
	if fail {
		d = 2 * time.Millisecond
	}
	select {
	case <-time.After(d):
	case <-ctx.Done():
		return "", ctx.Err()
	}
	if fail {
		return "", errOutOfStock
	}
	return fmt.Sprintf("%s:%d", backend, n), nil
}

package main

import (
	"context"
	"fmt"
	"time"
)

type Quote struct{ Symbol string }

func lookup(ctx context.Context, symbol string) (Quote, error) {
	select {
	case <-ctx.Done():
		return Quote{}, ctx.Err()
	default:
		return Quote{Symbol: symbol}, nil
	}
}

func quote(parent context.Context, symbol string) (Quote, error) {
	ctx, _ := context.WithTimeout(parent, 3*time.Second)
	return lookup(ctx, symbol)
}

func main() {
	q, err := quote(context.Background(), "GOOG")
	fmt.Println(q.Symbol, err)
}

package item

import (
	"context"
	"testing"
	"time"
)

type fixedBackend map[string]int

func (f fixedBackend) Price(ctx context.Context, sku string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	return f[sku], nil
}

func TestPrices(t *testing.T) {
	got, err := Prices(context.Background(), fixedBackend{"a": 1, "b": 2}, []string{"a", "b"}, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got["a"] != 1 || got["b"] != 2 || len(got) != 2 {
		t.Fatalf("got %v", got)
	}
}

package item

import (
	"context"
	"testing"
)

func TestGet(t *testing.T) {
	r := &Rates{Fetch: func(ctx context.Context, pair string) (float64, error) { return 1.08, ctx.Err() }}
	if v, err := r.Get(context.Background(), "EUR/USD"); err != nil || v != 1.08 {
		t.Fatalf("Get = %v, %v", v, err)
	}
}

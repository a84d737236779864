package item

import (
	"context"
	"testing"
	"time"
)

func TestFirstReturnsFastestAnswer(t *testing.T) {
	fast := func(ctx context.Context, q string) string { return "fast:" + q }
	slow := func(ctx context.Context, q string) string {
		select {
		case <-time.After(50 * time.Millisecond):
		case <-ctx.Done():
		}
		return "slow:" + q
	}
	if got := First(context.Background(), "q", slow, fast); got != "fast:q" {
		t.Fatalf("First = %q, want %q", got, "fast:q")
	}
}

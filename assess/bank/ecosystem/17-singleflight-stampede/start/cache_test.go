package item

import (
	"context"
	"testing"
)

func TestGetCaches(t *testing.T) {
	loads := 0
	c := New(func(ctx context.Context, key string) (string, error) {
		loads++
		return "value of " + key, nil
	})
	for i := 0; i < 3; i++ {
		if v, err := c.Get(context.Background(), "a"); err != nil || v != "value of a" {
			t.Fatalf("Get = %q, %v", v, err)
		}
	}
	if loads != 1 {
		t.Fatalf("%d loads, want 1", loads)
	}
}

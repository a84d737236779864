package item

import (
	"context"
	"testing"
)

func TestFirstOver(t *testing.T) {
	if v, err := FirstOver(context.Background(), 100, 50); v != 64 || err != nil {
		t.Fatalf("FirstOver(100, 50) = %d, %v; want 64", v, err)
	}
	if v, err := FirstOver(context.Background(), 5, 100); v != -1 || err != nil {
		t.Fatalf("FirstOver(5, 100) = %d, %v; want -1", v, err)
	}
}

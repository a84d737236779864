package item

import (
	"context"
	"sync"
	"testing"
)

type recorder struct {
	mu   sync.Mutex
	done map[string]bool
}

func (r *recorder) Render(ctx context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.done[id] = true
	return nil
}

func TestRendersAll(t *testing.T) {
	r := &recorder{done: map[string]bool{}}
	ids := []string{"a", "b", "c", "d", "e"}
	if err := RenderAll(context.Background(), r, ids, 2); err != nil {
		t.Fatal(err)
	}
	if len(r.done) != len(ids) {
		t.Fatalf("rendered %v", r.done)
	}
}

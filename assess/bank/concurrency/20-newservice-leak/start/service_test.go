package item

import (
	"context"
	"testing"
)

func TestHandlesSubmittedJobs(t *testing.T) {
	got := make(chan int, 3)
	s := NewService(func(ctx context.Context, job int) { got <- job })
	for j := 1; j <= 3; j++ {
		s.Submit(j)
	}
	for j := 1; j <= 3; j++ {
		if v := <-got; v != j {
			t.Fatalf("handled job %d, want %d", v, j)
		}
	}
	s.Close()
}

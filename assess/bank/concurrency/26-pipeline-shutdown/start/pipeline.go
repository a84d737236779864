package item

import "context"

// generate emits 0, 1, ..., n-1.
func generate(ctx context.Context, n int) <-chan int {
	out := make(chan int)
	go func() {
		defer close(out)
		for i := 0; i < n; i++ {
			out <- i
		}
	}()
	return out
}

// square emits the square of every value from in.
func square(ctx context.Context, in <-chan int) <-chan int {
	out := make(chan int)
	go func() {
		defer close(out)
		for v := range in {
			out <- v * v
		}
	}()
	return out
}

// FirstOver returns the first of the squares of 0..n-1 that is greater than limit, or -1 if
// there is none. If ctx is cancelled first, it returns ctx's error.
func FirstOver(ctx context.Context, n, limit int) (int, error) {
	for v := range square(ctx, generate(ctx, n)) {
		if v > limit {
			return v, nil
		}
	}
	return -1, nil
}

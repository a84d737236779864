// Package item retries calls to flaky dependencies.
package item

import (
	"context"
	"fmt"
	"time"
)

// Retry calls op until it succeeds, sleeping backoff, 2*backoff, 4*backoff, ... between
// attempts, at most attempts times. A permanent error (see Permanent) is returned at once:
// retrying a validation failure only multiplies load. The wait between attempts ends early
// when ctx is done, and the returned error wraps the last failure (or ctx's error) so that
// callers can still classify it with errors.Is / errors.As.
func Retry(ctx context.Context, attempts int, backoff time.Duration, op func(ctx context.Context) error) error {
	var err error
	for i := 0; i < attempts; i++ {
		if err = op(ctx); err == nil {
			return nil
		}
		if i == attempts-1 {
			break
		}
		t := time.NewTimer(backoff << i)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("retry stopped after %d attempts (last error: %v): %w", i+1, err, ctx.Err())
		}
	}
	return fmt.Errorf("after %d attempts: %w", attempts, err)
}

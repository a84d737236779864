// Package item retries calls to flaky dependencies.
package item

import (
	"context"
	"errors"
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
		var perm *permanentError
		if errors.As(err, &perm) {
			return err
		}
		if i == attempts-1 {
			break
		}
		time.Sleep(backoff << i)
		if ctx.Err() != nil {
			return fmt.Errorf("retry stopped after %d attempts: %w", i+1, ctx.Err())
		}
	}
	return fmt.Errorf("after %d attempts: %w", attempts, err)
}

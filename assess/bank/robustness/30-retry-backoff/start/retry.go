// Package item retries calls to flaky dependencies.
package item

import (
	"context"
	"fmt"
	"time"
)

// Retry calls op until it succeeds, sleeping backoff, 2*backoff, 4*backoff, ... between
// attempts, at most attempts times.
func Retry(ctx context.Context, attempts int, backoff time.Duration, op func(ctx context.Context) error) error {
	var err error
	for i := 0; i < attempts; i++ {
		if err = op(ctx); err == nil {
			return nil
		}
		time.Sleep(backoff << i)
	}
	return fmt.Errorf("after %d attempts: %v", attempts, err)
}

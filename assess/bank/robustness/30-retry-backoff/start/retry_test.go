package item

import (
	"context"
	"errors"
	"testing"
	"time"
)

var errUnavailable = errors.New("503 service unavailable")

func TestSucceedsAfterTransientErrors(t *testing.T) {
	calls := 0
	err := Retry(context.Background(), 5, time.Millisecond, func(ctx context.Context) error {
		calls++
		if calls < 3 {
			return errUnavailable
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Fatalf("err = %v after %d calls; want success on the third", err, calls)
	}
}

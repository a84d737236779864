package item

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"assess/pressure"
)

// HIDDEN-PRESSURE-SOURCE-5e1d: this text must never reach a candidate.
func TestPressureBoth(t *testing.T) {
	cfg := pressure.Require(t)
	n, err := strconv.Atoi(os.Getenv("BOTH_CALLS")) // the item's pressure env
	if err != nil {
		t.Fatalf("BOTH_CALLS: %v", err)
	}
	faults := cfg.Faults()
	call := func() error {
		if _, hit := faults.Next(); hit {
			return pressure.ErrInjected
		}
		return nil
	}
	w := pressure.Watch(t, cfg)
	pressure.Load{N: n, Rate: 3000}.Run(context.Background(), func(ctx context.Context, i int) error { return Both(call, call) })
	w.Settle(2*time.Second, 3)
}

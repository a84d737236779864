package item

import (
	"testing"

	"go.uber.org/goleak"
)

// HIDDEN-PRESSURE-SOURCE-5e1d: this text must never reach a candidate.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

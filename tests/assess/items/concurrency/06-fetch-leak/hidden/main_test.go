package item

import (
	"testing"

	"go.uber.org/goleak"
)

// HIDDEN-MARKER-main: the grader's leak check.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

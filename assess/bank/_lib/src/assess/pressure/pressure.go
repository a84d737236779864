// Package pressure runs an item's hidden tests as a production fault-injection drill: seeded
// network faults on a fraction of operations (10% by default), load at a fixed rate, and a
// watch on the goroutine count that fails the test with a summary of the goroutine dump when
// the count passes a bound or does not come back after the load.
//
// The grader runs a fix item's tests a second time under pressure (the item's "pressure"
// section) with ASSESS_PRESSURE=1 and the seed and rate in the environment. A pressure test
// skips itself otherwise:
//
//	func TestSearchUnderPressure(t *testing.T) {
//		cfg := pressure.Require(t)              // skips unless ASSESS_PRESSURE=1
//		faults := cfg.Faults()                  // 10% of requests, chosen by the seed
//		faults.Err = pressure.ErrInjected       // ... answer 503
//		srv := httptest.NewServer(faults.Handler(backend))
//		w := pressure.Watch(t, cfg)             // goroutines from now on
//		res := pressure.Load{N: 400, Rate: 400}.Run(ctx, func(ctx context.Context, i int) error { ... })
//		srv.Close()
//		w.Settle(5*time.Second, 5)              // back to the baseline (+5) within 5 s, or fail
//	}
//
// Which operations are faulted is a pure function of the seed and the operation's index, so
// a run faults the same number of operations whatever the scheduling: drills fail a wrong
// solution and pass a right one by counts (goroutines left, requests failed), never by timing.
//
// A failure's message starts with "pressure: " on its first line; the grader shows that line
// and what follows (the goroutine summary) as the drill's evidence.
package pressure

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

// Config is the grader's setting for a pressure run.
type Config struct {
	Seed          uint64  // ASSESS_PRESSURE_SEED: which operations are faulted (default 1)
	Rate          float64 // ASSESS_PRESSURE_RATE: the fraction of operations faulted (default 0.10)
	MaxGoroutines int     // ASSESS_PRESSURE_MAX_GOROUTINES: Watch's bound (default 5000)
}

// Enabled reports whether the tests run under pressure (ASSESS_PRESSURE=1).
func Enabled() bool { return os.Getenv("ASSESS_PRESSURE") == "1" }

// FromEnv reads the configuration from the environment; unset variables take the defaults.
func FromEnv() (Config, error) {
	c := Config{Seed: 1, Rate: 0.10, MaxGoroutines: 5000}
	if s := os.Getenv("ASSESS_PRESSURE_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return c, fmt.Errorf("ASSESS_PRESSURE_SEED=%q: not an unsigned integer", s)
		}
		c.Seed = v
	}
	if s := os.Getenv("ASSESS_PRESSURE_RATE"); s != "" {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || v < 0 || v > 1 {
			return c, fmt.Errorf("ASSESS_PRESSURE_RATE=%q: not a fraction from 0 to 1", s)
		}
		c.Rate = v
	}
	if s := os.Getenv("ASSESS_PRESSURE_MAX_GOROUTINES"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			return c, fmt.Errorf("ASSESS_PRESSURE_MAX_GOROUTINES=%q: not a positive integer", s)
		}
		c.MaxGoroutines = v
	}
	return c, nil
}

// Require skips the test unless it runs under pressure, and returns the configuration.
func Require(t testing.TB) Config {
	t.Helper()
	if !Enabled() {
		t.Skip("a pressure drill: runs only under pressure (ASSESS_PRESSURE=1)")
	}
	c, err := FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// String names the faults, as failure messages show them: "10% faults, seed 1".
func (c Config) String() string {
	return strconv.FormatFloat(c.Rate*100, 'f', -1, 64) + "% faults, seed " + strconv.FormatUint(c.Seed, 10)
}

// Fatalf fails the test with a drill's evidence: "pressure: <first line> (<config>)", then the
// rest of the message.
func (c Config) Fatalf(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	first, rest, _ := strings.Cut(msg, "\n")
	if rest != "" {
		rest = "\n" + rest
	}
	t.Fatalf("pressure: %s (%v)%s", first, c, rest)
}

// ErrInjected is the error a faulted operation fails with by default.
var ErrInjected = errors.New("injected fault")

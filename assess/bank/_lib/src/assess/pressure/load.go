package pressure

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Load issues N operations at a fixed rate: operation i starts at start + i/Rate, each in a
// goroutine of its own, whatever the earlier ones are doing (an open loop: a slow system gets
// more concurrent operations, as in production, instead of fewer requests).
type Load struct {
	N       int
	Rate    float64       // operations started per second
	Timeout time.Duration // each operation's context deadline; 0: none
}

// Result counts what the operations did.
type Result struct {
	N, OK, Failed int
	Stuck         int            // still running when Run's context ended
	Errors        map[string]int // failures by the text of their innermost error
	Elapsed       time.Duration
}

// Run runs the load and waits for every operation, or until ctx ends: then the operations
// still running are counted as Stuck and left running (a Watch shows where they are).
// Operations started after ctx ended are not run (neither OK, Failed nor Stuck).
func (l Load) Run(ctx context.Context, op func(ctx context.Context, i int) error) Result {
	res := Result{N: l.N, Errors: map[string]int{}}
	start := time.Now()
	errs := make(chan error, l.N) // buffered: a straggler never blocks on it
	started := 0
	for i := 0; i < l.N && ctx.Err() == nil; i++ {
		due := start.Add(time.Duration(float64(i) / l.Rate * float64(time.Second)))
		if d := time.Until(due); d > 0 {
			timer := time.NewTimer(d)
			select {
			case <-timer.C:
			case <-ctx.Done():
				timer.Stop()
				continue
			}
		}
		started++
		go func(i int) {
			octx, cancel := ctx, context.CancelFunc(func() {})
			if l.Timeout > 0 {
				octx, cancel = context.WithTimeout(ctx, l.Timeout)
			}
			defer cancel()
			errs <- op(octx, i)
		}(i)
	}
	count := func(err error) {
		if err == nil {
			res.OK++
			return
		}
		res.Failed++
		res.Errors[innermost(err).Error()]++
	}
wait:
	for n := 0; n < started; n++ {
		select {
		case err := <-errs:
			count(err)
		case <-ctx.Done():
			for ; n < started && len(errs) > 0; n++ {
				count(<-errs)
			}
			res.Stuck = started - n
			break wait
		}
	}
	res.Elapsed = time.Since(start)
	return res
}

func innermost(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}

// String summarizes the run: "400 operations in 1.02s: 360 ok, 40 failed (40 × injected
// fault), 0 still running".
func (r Result) String() string {
	texts := make([]string, 0, len(r.Errors))
	for text := range r.Errors {
		texts = append(texts, text)
	}
	sort.Slice(texts, func(i, j int) bool { // the most frequent first, at most 3
		a, b := r.Errors[texts[i]], r.Errors[texts[j]]
		return a > b || a == b && texts[i] < texts[j]
	})
	var kinds []string
	for i, text := range texts {
		if i == 3 {
			kinds = append(kinds, fmt.Sprintf("%d more kinds", len(texts)-3))
			break
		}
		kinds = append(kinds, fmt.Sprintf("%d × %s", r.Errors[text], text))
	}
	failed := fmt.Sprintf("%d failed", r.Failed)
	if len(kinds) > 0 {
		failed += " (" + strings.Join(kinds, ", ") + ")"
	}
	return fmt.Sprintf("%d operations in %.2fs: %d ok, %s, %d still running", r.N, r.Elapsed.Seconds(), r.OK, failed, r.Stuck)
}

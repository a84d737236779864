package item

import (
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"
)

func indexJob() (int, error) {
	var s []int
	return s[3], nil // a bug: index out of range
}

func TestPanicsAreIsolated(t *testing.T) {
	jobs := make([]Job, 12)
	for i := range jobs {
		i := i
		jobs[i] = func() (int, error) { return i, nil }
	}
	jobs[3] = indexJob
	jobs[5] = func() (int, error) { panic("corrupt record") }
	jobs[8] = func() (int, error) { panic(errors.New("decoder state")) }

	done := make(chan []Result, 1)
	go func() { done <- Run(jobs, 2) }()
	var res []Result
	select {
	case res = <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("Run did not finish: a panicking job stopped the pool")
	}
	for i, r := range res {
		switch i {
		case 3, 5, 8:
			var pe *PanicError
			if !errors.As(r.Err, &pe) {
				t.Fatalf("job %d: Err = %v, want *PanicError", i, r.Err)
			}
			if len(pe.Stack) == 0 || !strings.Contains(string(pe.Stack), "item.") {
				t.Errorf("job %d: PanicError.Stack does not show the job", i)
			}
		default:
			if r.Err != nil || r.Value != i {
				t.Errorf("job %d: %+v, want Value %d", i, r, i)
			}
		}
	}
	var re runtime.Error
	if pe, ok := res[3].Err.(*PanicError); !ok || !errors.As(asError(pe.Value), &re) {
		t.Errorf("job 3: the runtime.Error was not kept as the panic value")
	}
}

func asError(v any) error {
	err, _ := v.(error)
	return err
}

package item

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// RunAll must not return while a call of work is still running, however long it takes.
func TestRunAllWaitsForSlowWork(t *testing.T) {
	release := make(chan struct{})
	var started sync.WaitGroup
	started.Add(3)
	returned := make(chan struct{})
	go func() {
		RunAll(3, func(i int) {
			started.Done()
			if i == 2 {
				<-release // the slow one
			}
		})
		close(returned)
	}()
	started.Wait()
	select {
	case <-returned:
		close(release)
		t.Fatal("RunAll returned while work(2) was still running")
	case <-time.After(300 * time.Millisecond):
	}
	close(release)
	select {
	case <-returned:
	case <-time.After(5 * time.Second):
		t.Fatal("RunAll did not return after every work call had returned")
	}
}

// The calls run concurrently: each one waits until all of them have started.
func TestRunAllIsConcurrent(t *testing.T) {
	const n = 4
	var running int32
	all := make(chan struct{})
	var failed int32
	RunAll(n, func(i int) {
		if atomic.AddInt32(&running, 1) == n {
			close(all)
		}
		select {
		case <-all:
		case <-time.After(time.Second):
			atomic.StoreInt32(&failed, 1)
		}
	})
	if atomic.LoadInt32(&failed) != 0 {
		t.Fatal("the work calls did not run concurrently")
	}
}

// Results written by the work calls are visible when RunAll returns (checked by -race too).
func TestRunAllResultsVisible(t *testing.T) {
	out := make([]int, 50)
	RunAll(len(out), func(i int) {
		if i%7 == 0 {
			time.Sleep(150 * time.Millisecond)
		}
		out[i] = i * i
	})
	for i, v := range out {
		if v != i*i {
			t.Fatalf("out[%d] = %d after RunAll returned, want %d", i, v, i*i)
		}
	}
}

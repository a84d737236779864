package item

import (
	"math/rand"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// hook is what betweenLocks runs. The tests swap it atomically: transfers left stuck or
// running by a failed test must not race with the next test's setup.
var hook atomic.Value

func setHook(f func()) { hook.Store(f) }

func init() {
	setHook(func() {})
	betweenLocks = func() { hook.Load().(func())() }
}

// within runs f and reports whether it returned within d.
func within(d time.Duration, f func()) bool {
	done := make(chan struct{})
	go func() {
		f()
		close(done)
	}()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

// rendezvous makes the first two callers meet (each waits up to 200 ms for the other).
func rendezvous() func() {
	var mu sync.Mutex
	arrived := 0
	both := make(chan struct{})
	return func() {
		mu.Lock()
		arrived++
		if arrived == 2 {
			close(both)
		}
		mu.Unlock()
		select {
		case <-both:
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Two transfers in opposite directions, each holding its first lock when the other arrives.
func TestOppositeTransfersDoNotDeadlock(t *testing.T) {
	setHook(rendezvous())
	defer setHook(func() {})
	a, b := NewAccount(1, 100), NewAccount(2, 100)
	var errAB, errBA error
	ok := within(3*time.Second, func() {
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); errAB = Transfer(a, b, 10) }()
		go func() { defer wg.Done(); errBA = Transfer(b, a, 20) }()
		wg.Wait()
	})
	if !ok {
		t.Fatal("Transfer(a, b) and Transfer(b, a) deadlocked")
	}
	if errAB != nil || errBA != nil {
		t.Fatalf("transfers failed: %v, %v", errAB, errBA)
	}
	if a.Balance() != 110 || b.Balance() != 90 {
		t.Fatalf("balances %d and %d, want 110 and 90", a.Balance(), b.Balance())
	}
}

// A transfer to the same account changes nothing and returns.
func TestTransferToSelf(t *testing.T) {
	a := NewAccount(1, 100)
	var err error
	if !within(2*time.Second, func() { err = Transfer(a, a, 10) }) {
		t.Fatal("Transfer(a, a) never returned")
	}
	if err != nil || a.Balance() != 100 {
		t.Fatalf("Transfer(a, a, 10) = %v, balance %d; want nil and 100", err, a.Balance())
	}
}

// Random transfers between four accounts, watched by readers, keep the total.
func TestConcurrentTransfersKeepTheTotal(t *testing.T) {
	setHook(runtime.Gosched)
	defer setHook(func() {})
	accounts := []*Account{NewAccount(1, 1000), NewAccount(2, 1000), NewAccount(3, 1000), NewAccount(4, 1000)}
	stop := make(chan struct{})
	defer close(stop)
	var negative int32
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		for {
			select {
			case <-stop:
				return
			default:
			}
			for _, acc := range accounts {
				if acc.Balance() < 0 {
					atomic.StoreInt32(&negative, 1)
				}
			}
		}
	}()
	ok := within(5*time.Second, func() {
		var wg sync.WaitGroup
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func(seed int64) {
				defer wg.Done()
				r := rand.New(rand.NewSource(seed))
				for i := 0; i < 300; i++ {
					from, to := accounts[r.Intn(4)], accounts[r.Intn(4)]
					Transfer(from, to, r.Intn(50))
				}
			}(int64(g))
		}
		wg.Wait()
	})
	if !ok {
		t.Fatal("concurrent transfers deadlocked")
	}
	stop <- struct{}{} // the reader stops (it is not stuck: no transfer is)
	<-readerDone
	if atomic.LoadInt32(&negative) != 0 {
		t.Fatal("a reader saw a negative balance")
	}
	total := 0
	for _, acc := range accounts {
		total += acc.Balance()
	}
	if total != 4000 {
		t.Fatalf("total %d after transfers, want 4000", total)
	}
}

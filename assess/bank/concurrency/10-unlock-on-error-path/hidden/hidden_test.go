package item

import (
	"sync"
	"testing"
	"time"
)

// A refused withdrawal must leave the account usable.
func TestRefusedWithdrawReleasesLock(t *testing.T) {
	var a Account
	a.Deposit(10)
	if err := a.Withdraw(50); err != ErrInsufficientFunds {
		t.Fatalf("Withdraw(50) on 10 = %v, want ErrInsufficientFunds", err)
	}
	done := make(chan int)
	go func() {
		a.Deposit(5)
		done <- a.Balance()
	}()
	select {
	case got := <-done:
		if got != 15 {
			t.Fatalf("Balance() = %d, want 15", got)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Deposit blocks forever after a refused Withdraw: the mutex is still locked")
	}
}

// Concurrent withdrawals never overdraw the account.
func TestConcurrentWithdrawals(t *testing.T) {
	var a Account
	a.Deposit(50)
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if a.Withdraw(1) == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		}()
	}
	waited := make(chan struct{})
	go func() { wg.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(5 * time.Second):
		t.Fatal("withdrawals hang: the mutex is left locked")
	}
	if ok != 50 || a.Balance() != 0 {
		t.Fatalf("%d withdrawals of 1 from 50 succeeded, balance %d; want 50 and 0", ok, a.Balance())
	}
}

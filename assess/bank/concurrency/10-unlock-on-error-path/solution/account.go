package item

import (
	"errors"
	"sync"
)

var ErrInsufficientFunds = errors.New("insufficient funds")

// Account is a balance shared by many goroutines.
type Account struct {
	mu      sync.Mutex
	balance int
}

func (a *Account) Deposit(n int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.balance += n
}

// Withdraw takes n from the balance, or returns ErrInsufficientFunds and changes nothing.
func (a *Account) Withdraw(n int) error {
	a.mu.Lock()
	defer a.mu.Unlock() // every return path unlocks
	if n > a.balance {
		return ErrInsufficientFunds
	}
	a.balance -= n
	return nil
}

func (a *Account) Balance() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.balance
}

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
	a.balance += n
	a.mu.Unlock()
}

// Withdraw takes n from the balance, or returns ErrInsufficientFunds and changes nothing.
func (a *Account) Withdraw(n int) error {
	a.mu.Lock()
	if n > a.balance {
		return ErrInsufficientFunds
	}
	a.balance -= n
	a.mu.Unlock()
	return nil
}

func (a *Account) Balance() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.balance
}

package item

import (
	"errors"
	"sync"
)

var ErrInsufficientFunds = errors.New("insufficient funds")

type Account struct {
	ID      int // unique
	mu      sync.Mutex
	balance int
}

func NewAccount(id, balance int) *Account { return &Account{ID: id, balance: balance} }

func (a *Account) Balance() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.balance
}

// betweenLocks runs while Transfer holds the first of its two locks and before it takes the
// second. The tests replace it to force interleavings: keep the call between the two locks.
var betweenLocks = func() {}

// Transfer moves amount between two accounts atomically: nobody ever sees the money in
// neither or in both accounts.
func Transfer(from, to *Account, amount int) error {
	// Every goroutine takes the two locks in the same global order (by ID), so no two
	// transfers can each hold the lock the other one waits for.
	first, second := from, to
	if second.ID < first.ID {
		first, second = second, first
	}
	first.mu.Lock()
	defer first.mu.Unlock()
	betweenLocks()
	second.mu.Lock()
	defer second.mu.Unlock()
	if from.balance < amount {
		return ErrInsufficientFunds
	}
	from.balance -= amount
	to.balance += amount
	return nil
}

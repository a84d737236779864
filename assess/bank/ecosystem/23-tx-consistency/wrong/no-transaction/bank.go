// Package item moves money between accounts stored in SQLite.
package item

import (
	"context"
	"database/sql"
	"errors"
)

var (
	ErrInsufficientFunds = errors.New("insufficient funds")
	ErrNoAccount         = errors.New("no such account")
)

// Bank is safe for concurrent use, also by several processes (or Bank values) sharing one
// database.
type Bank struct {
	DB *sql.DB
}

// Transfer moves amount (> 0) from one account to another. It fails with
// ErrInsufficientFunds when from's balance is too low and with ErrNoAccount when either
// account does not exist; a failed transfer changes nothing.
func (b *Bank) Transfer(ctx context.Context, from, to string, amount int64) error {
	if amount <= 0 {
		return errors.New("transfer: amount must be positive")
	}
	// Each UPDATE is atomic on its own: no lost updates, no overdraft.
	res, err := b.DB.ExecContext(ctx, `UPDATE accounts SET balance = balance - ? WHERE id = ? AND balance >= ?`, amount, from, amount)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		var exists bool
		if err := b.DB.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM accounts WHERE id = ?)`, from).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return ErrNoAccount
		}
		return ErrInsufficientFunds
	}
	res, err = b.DB.ExecContext(ctx, `UPDATE accounts SET balance = balance + ? WHERE id = ?`, amount, to)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return ErrNoAccount
	}
	return nil
}

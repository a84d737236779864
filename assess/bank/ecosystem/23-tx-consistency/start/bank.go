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
	var fromBal, toBal int64
	if err := b.DB.QueryRowContext(ctx, `SELECT balance FROM accounts WHERE id = ?`, from).Scan(&fromBal); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNoAccount
		}
		return err
	}
	if fromBal < amount {
		return ErrInsufficientFunds
	}
	if _, err := b.DB.ExecContext(ctx, `UPDATE accounts SET balance = ? WHERE id = ?`, fromBal-amount, from); err != nil {
		return err
	}
	if err := b.DB.QueryRowContext(ctx, `SELECT balance FROM accounts WHERE id = ?`, to).Scan(&toBal); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNoAccount
		}
		return err
	}
	_, err := b.DB.ExecContext(ctx, `UPDATE accounts SET balance = ? WHERE id = ?`, toBal+amount, to)
	return err
}

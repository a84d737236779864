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
	tx, err := b.DB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	var fromBal int64
	err = tx.QueryRowContext(ctx, `SELECT balance FROM accounts WHERE id = ?`, from).Scan(&fromBal)
	if errors.Is(err, sql.ErrNoRows) {
		tx.Rollback()
		return ErrNoAccount
	}
	if err != nil {
		return err
	}
	if fromBal < amount {
		tx.Rollback()
		return ErrInsufficientFunds
	}
	if _, err := tx.ExecContext(ctx, `UPDATE accounts SET balance = balance - ? WHERE id = ?`, amount, from); err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, `UPDATE accounts SET balance = balance + ? WHERE id = ?`, amount, to)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		tx.Rollback()
		return ErrNoAccount
	}
	return tx.Commit()
}

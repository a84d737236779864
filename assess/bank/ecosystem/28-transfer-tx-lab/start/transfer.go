package main

import (
	"context"
	"database/sql"
	"errors"
)

var ErrInsufficientFunds = errors.New("insufficient funds")

// transfer moves amount (> 0) from account from to account to.
func transfer(ctx context.Context, db *sql.DB, from, to, amount int64) error {
	var balance int64
	if err := db.QueryRowContext(ctx, `SELECT balance FROM accounts WHERE id = ?`, from).Scan(&balance); err != nil {
		return err
	}
	if balance < amount {
		return ErrInsufficientFunds
	}
	if _, err := db.ExecContext(ctx, `UPDATE accounts SET balance = balance - ? WHERE id = ?`, amount, from); err != nil {
		return err
	}
	_, err := db.ExecContext(ctx, `UPDATE accounts SET balance = balance + ? WHERE id = ?`, amount, to)
	return err
}

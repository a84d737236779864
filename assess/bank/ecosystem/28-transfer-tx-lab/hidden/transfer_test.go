package main

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
)

func TestTransferMovesMoney(t *testing.T) {
	db, err := openDB(filepath.Join(t.TempDir(), "bank.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := transfer(context.Background(), db, 1, 2, 40); err != nil {
		t.Fatal(err)
	}
	var a, b int64
	db.QueryRow(`SELECT balance FROM accounts WHERE id = 1`).Scan(&a)
	db.QueryRow(`SELECT balance FROM accounts WHERE id = 2`).Scan(&b)
	if a != 4960 || b != 5040 {
		t.Fatalf("balances %d and %d, want 4960 and 5040", a, b)
	}
}

func TestRefusesOverdraft(t *testing.T) {
	db, err := openDB(filepath.Join(t.TempDir(), "bank.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := transfer(context.Background(), db, 1, 2, 5001); !errors.Is(err, ErrInsufficientFunds) {
		t.Fatalf("got %v, want ErrInsufficientFunds", err)
	}
	if total, _, _ := books(db); total != accounts*opening {
		t.Fatalf("total %d", total)
	}
}

package item

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	_ "github.com/mattn/go-sqlite3"
)

// dsn: WAL, BEGIN IMMEDIATE for every transaction (_txlock), wait up to 5 s for locks.
func dsn(path string) string {
	return "file:" + path + "?_journal_mode=WAL&_txlock=immediate&_busy_timeout=5000&_synchronous=OFF"
}

// newDB creates a database file in a fresh temporary directory with accounts a..e holding
// 1000 each, and returns its path.
func newDB(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "bank.db")
	db := open(t, path)
	_, err := db.Exec(`CREATE TABLE accounts (id TEXT PRIMARY KEY, balance INTEGER NOT NULL);
		INSERT INTO accounts VALUES ('a', 1000), ('b', 1000), ('c', 1000), ('d', 1000), ('e', 1000);`)
	if err != nil {
		t.Fatal(err)
	}
	return path
}

func open(t *testing.T, path string) *sql.DB {
	db, err := sql.Open("sqlite3", dsn(path))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func balances(t *testing.T, db *sql.DB) map[string]int64 {
	rows, err := db.Query(`SELECT id, balance FROM accounts`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	m := map[string]int64{}
	for rows.Next() {
		var id string
		var bal int64
		if err := rows.Scan(&id, &bal); err != nil {
			t.Fatal(err)
		}
		m[id] = bal
	}
	return m
}

func TestTransfer(t *testing.T) {
	db := open(t, newDB(t))
	bank := &Bank{DB: db}
	if err := bank.Transfer(context.Background(), "a", "b", 300); err != nil {
		t.Fatal(err)
	}
	if err := bank.Transfer(context.Background(), "a", "b", 800); !errors.Is(err, ErrInsufficientFunds) {
		t.Fatalf("err = %v, want ErrInsufficientFunds", err)
	}
	if m := balances(t, db); m["a"] != 700 || m["b"] != 1300 {
		t.Fatalf("balances %v", m)
	}
}

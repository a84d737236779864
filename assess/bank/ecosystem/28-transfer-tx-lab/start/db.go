package main

import (
	"database/sql"
	"fmt"

	_ "github.com/mattn/go-sqlite3"
)

const accounts, opening = 10, 5000

// openDB makes the bank's database at path: accounts 1..10 with 5000 each, and the unreliable
// disk: a credit of an amount ending in 3 (3, 13, 23, ...: 1 transfer in 10) fails.
func openDB(path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_txlock=immediate&_busy_timeout=5000&_synchronous=OFF")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(4)
	stmts := []string{
		`CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL)`,
		`CREATE TRIGGER unreliable_disk BEFORE UPDATE OF balance ON accounts
		   WHEN NEW.balance > OLD.balance AND (NEW.balance - OLD.balance) % 10 = 3
		   BEGIN SELECT RAISE(ABORT, 'injected fault: disk I/O error'); END`,
	}
	for i := 1; i <= accounts; i++ {
		stmts = append(stmts, fmt.Sprintf(`INSERT INTO accounts VALUES (%d, %d)`, i, opening))
	}
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			db.Close()
			return nil, err
		}
	}
	return db, nil
}

// books: the sum of the balances and the accounts below zero.
func books(db *sql.DB) (total, negative int64, err error) {
	err = db.QueryRow(`SELECT COALESCE(SUM(balance), 0), COUNT(CASE WHEN balance < 0 THEN 1 END) FROM accounts`).Scan(&total, &negative)
	return total, negative, err
}

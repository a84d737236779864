package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"time"

	_ "github.com/mattn/go-sqlite3"
)

func main() {
	dir, err := os.MkdirTemp("", "refunds")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, "shop.db")+"?_journal_mode=WAL")
	if err != nil {
		panic(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE refunds (order_id INTEGER)`); err != nil {
		panic(err)
	}

	// The request's context: cancelled when the client disconnects.
	ctx, cancel := context.WithCancel(context.Background())
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		panic(err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO refunds VALUES (42)`); err != nil {
		panic(err)
	}

	cancel() // the client disconnects before the handler commits
	for db.Stats().InUse != 0 {
		time.Sleep(time.Millisecond) // wait until database/sql has reacted
	}

	err = tx.Commit()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM refunds`).Scan(&n); err != nil {
		panic(err)
	}
	fmt.Println(err, n)
}

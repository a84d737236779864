// Fault drill: the order service stops answering under load. This program replays the
// incident: a series of orders, then 6 concurrent product listings.
// It prints the pool statistics and the goroutine profile an operator would pull from
// /debug/pprof/goroutine?debug=1.
package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"time"

	_ "github.com/mattn/go-sqlite3"
)

type Service struct{ db *sql.DB }

var ErrOutOfStock = errors.New("out of stock")

func (s *Service) placeOrder(ctx context.Context, sku string, qty int) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	var stock int
	if err := tx.QueryRowContext(ctx, `SELECT stock FROM products WHERE sku = ?`, sku).Scan(&stock); err != nil {
		tx.Rollback()
		return err
	}
	if stock < qty {
		return ErrOutOfStock
	}
	if _, err := tx.ExecContext(ctx, `UPDATE products SET stock = stock - ? WHERE sku = ?`, qty, sku); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

func (s *Service) listProducts(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM products`).Scan(&n)
	return n, err
}

func main() {
	dir, err := os.MkdirTemp("", "drill")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, "shop.db")+"?_journal_mode=WAL&_busy_timeout=5000")
	if err != nil {
		panic(err)
	}
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(4)
	if _, err := db.Exec(`CREATE TABLE products (sku TEXT PRIMARY KEY, stock INTEGER);
		INSERT INTO products VALUES ('mug', 10), ('tee', 3)`); err != nil {
		panic(err)
	}
	s := &Service{db: db}

	// Each request runs under its own request context (cancelled only if the client leaves).
	orders := []struct {
		sku string
		qty int
	}{{"mug", 1}, {"tee", 2}, {"tee", 2}, {"mug", 3}, {"tee", 5}, {"mug", 2}, {"tee", 4}, {"mug", 9}, {"tee", 1}}
	for i, o := range orders {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		err := s.placeOrder(ctx, o.sku, o.qty)
		fmt.Printf("order %d (%d x %s): %v\n", i, o.qty, o.sku, err)
		if db.Stats().InUse == 4 {
			break // the pool is full: later orders would hang
		}
	}
	for i := 0; i < 6; i++ {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go s.listProducts(ctx)
	}
	// Wait until the incident's steady state: 6 listings waiting, finished work gone.
	for db.Stats().WaitCount < 6 || runtime.NumGoroutine() != 1+1+4+6 {
		time.Sleep(time.Millisecond)
	}
	st := db.Stats()
	fmt.Printf("\npool: max_open=%d open=%d in_use=%d idle=%d wait_count=%d\n\n",
		st.MaxOpenConnections, st.OpenConnections, st.InUse, st.Idle, st.WaitCount)
	pprof.Lookup("goroutine").WriteTo(os.Stdout, 1)
}

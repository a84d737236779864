package main

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	_ "github.com/mattn/go-sqlite3"
)

func main() {
	db, err := sql.Open("sqlite3", ":memory:")
	if err != nil {
		panic(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(20) // the production checklist's values
	db.SetMaxIdleConns(10)

	// A burst: 20 requests each hold a connection.
	ctx := context.Background()
	var held []*sql.Conn
	for i := 0; i < 20; i++ {
		c, err := db.Conn(ctx)
		if err != nil {
			panic(err)
		}
		held = append(held, c)
	}
	// Request 21 is willing to wait 50 ms for a connection.
	wctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	_, err = db.Conn(wctx)
	cancel()
	s := db.Stats()
	fmt.Println("burst:", s.OpenConnections, s.InUse, s.WaitCount, err)

	// The burst is over: every request returns its connection.
	for _, c := range held {
		c.Close()
	}
	s = db.Stats()
	fmt.Println("after:", s.OpenConnections, s.Idle, s.MaxIdleClosed)
}

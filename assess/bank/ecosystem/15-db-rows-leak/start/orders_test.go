package item

import (
	"context"
	"database/sql"
	"fmt"
	"testing"

	_ "github.com/mattn/go-sqlite3"
)

// openTestDB returns a fresh in-memory database shared by all of the pool's connections.
func openTestDB(t *testing.T) *sql.DB {
	db, err := sql.Open("sqlite3", fmt.Sprintf("file:%s?mode=memory&cache=shared", t.Name()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	_, err = db.Exec(`CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT, status TEXT);
		INSERT INTO orders (customer, status) VALUES
			('ann', 'shipped'), ('ann', 'pending'), ('ann', 'pending'), ('bob', 'shipped');`)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestFirstPending(t *testing.T) {
	s := &Store{DB: openTestDB(t)}
	id, ok, err := s.FirstPending(context.Background(), "ann")
	if err != nil || !ok || id != 2 {
		t.Fatalf("ann: %d %v %v, want 2 true", id, ok, err)
	}
	if _, ok, err := s.FirstPending(context.Background(), "bob"); err != nil || ok {
		t.Fatalf("bob: %v %v, want no pending order", ok, err)
	}
}

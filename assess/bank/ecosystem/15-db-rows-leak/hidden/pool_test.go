package item

import (
	"context"
	"testing"
	"time"
)

func TestNoConnectionLeak(t *testing.T) {
	db := openTestDB(t)
	db.SetMaxOpenConns(2)
	s := &Store{DB: db}
	done := make(chan error, 1)
	go func() {
		for i := 0; i < 10; i++ {
			if _, _, err := s.FirstPending(context.Background(), "ann"); err != nil {
				done <- err
				return
			}
			if n := db.Stats().InUse; n != 0 {
				t.Errorf("after call %d: %d connections still in use", i+1, n)
				break
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("FirstPending blocked: the pool (2 connections) is exhausted by leaked rows")
	}
}

func TestQueryError(t *testing.T) {
	s := &Store{DB: openTestDB(t)}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := s.FirstPending(ctx, "ann"); err == nil {
		t.Fatal("want the query's error for a cancelled context")
	}
}

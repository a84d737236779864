package item

import (
	"context"
	"database/sql"
	"errors"
	"math/rand"
	"sync"
	"testing"
	"time"

	"github.com/mattn/go-sqlite3"
)

// slowWrites is the sqlite3 driver with every row update stretched by a short sleep (an
// update hook), so that concurrent transfers overlap on any scheduler, even GOMAXPROCS=1.
const slowWrites = "sqlite3_slow_writes"

func init() {
	sql.Register(slowWrites, &sqlite3.SQLiteDriver{
		ConnectHook: func(c *sqlite3.SQLiteConn) error {
			c.RegisterUpdateHook(func(op int, db, table string, rowid int64) {
				time.Sleep(200 * time.Microsecond)
			})
			return nil
		},
	})
}

func openSlow(t *testing.T, path string) *sql.DB {
	db, err := sql.Open(slowWrites, dsn(path))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Two Bank values on two connection pools (as two service instances would have) move money
// back and forth concurrently. Money must be conserved and no balance may go negative.
func TestConcurrentTransfersConserveMoney(t *testing.T) {
	path := newDB(t)
	banks := []*Bank{{DB: openSlow(t, path)}, {DB: openSlow(t, path)}}
	accounts := []string{"a", "b", "c"}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			rng := rand.New(rand.NewSource(int64(g)))
			bank := banks[g%2]
			for i := 0; i < 40; i++ {
				from, to := accounts[rng.Intn(3)], accounts[rng.Intn(3)]
				if from == to {
					continue
				}
				err := bank.Transfer(context.Background(), from, to, int64(1+rng.Intn(400)))
				if err != nil && !errors.Is(err, ErrInsufficientFunds) {
					errs <- err
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("transfer failed under concurrency: %v", err)
	}
	var total int64
	m := balances(t, banks[0].DB)
	for id, bal := range m {
		if bal < 0 {
			t.Errorf("account %s overdrawn: %d", id, bal)
		}
		total += bal
	}
	if total != 5000 {
		t.Fatalf("total %d after concurrent transfers, want 5000 (balances %v)", total, m)
	}
}

func TestFailedTransferChangesNothing(t *testing.T) {
	path := newDB(t)
	db := open(t, path)
	bank := &Bank{DB: db}
	if err := bank.Transfer(context.Background(), "a", "nobody", 100); !errors.Is(err, ErrNoAccount) {
		t.Fatalf("err = %v, want ErrNoAccount", err)
	}
	if err := bank.Transfer(context.Background(), "nobody", "a", 100); !errors.Is(err, ErrNoAccount) {
		t.Fatalf("err = %v, want ErrNoAccount", err)
	}
	if m := balances(t, db); m["a"] != 1000 {
		t.Fatalf("a failed transfer changed balances: %v", m)
	}
	// A rejected transfer must not keep the database locked.
	if err := bank.Transfer(context.Background(), "a", "b", 5000); !errors.Is(err, ErrInsufficientFunds) {
		t.Fatalf("err = %v, want ErrInsufficientFunds", err)
	}
	if err := (&Bank{DB: open(t, path)}).Transfer(context.Background(), "b", "a", 1); err != nil {
		t.Fatalf("transfer after a rejected one: %v", err)
	}
	if n := db.Stats().InUse; n != 0 {
		t.Fatalf("%d connections still in use after the transfers returned", n)
	}
}

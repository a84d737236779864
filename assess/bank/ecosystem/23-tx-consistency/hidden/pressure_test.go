package item

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"assess/pressure"

	"github.com/mattn/go-sqlite3"
)

var faultyDrivers atomic.Int32 // sql.Register takes a name once: one per test run (-count, -cpu)

// openFaulty opens path with a driver whose connections fail the pressure's share of row
// updates: a TEMP trigger raises "injected fault: disk I/O error" inside the statement, as a
// full disk or a lost connection would, and leaves the transaction open.
func openFaulty(t *testing.T, path string, faults *pressure.Faults) *sql.DB {
	name := fmt.Sprintf("sqlite3_faults_%d", faultyDrivers.Add(1))
	sql.Register(name, &sqlite3.SQLiteDriver{
		ConnectHook: func(c *sqlite3.SQLiteConn) error {
			c.RegisterUpdateHook(func(op int, db, table string, rowid int64) {
				time.Sleep(200 * time.Microsecond) // concurrent transfers overlap
			})
			hit := func() bool { _, hit := faults.Next(); return hit }
			if err := c.RegisterFunc("inject_fault", hit, false); err != nil {
				return err
			}
			_, err := c.Exec(`CREATE TEMP TRIGGER inject_fault BEFORE UPDATE ON accounts WHEN inject_fault()
				BEGIN SELECT RAISE(ABORT, 'injected fault: disk I/O error'); END`, nil)
			return err
		},
	})
	db, err := sql.Open(name, dsn(path))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Under pressure a share of the row updates fails inside its transaction. A transfer hit by
// one fails with that error; every other transfer still succeeds or is refused, money is
// conserved, and no connection (nor SQLite's write lock) stays held.
func TestPressureTransfersUnderInjectedFaults(t *testing.T) {
	cfg := pressure.Require(t)
	faults := cfg.Faults()
	path := newDB(t)
	banks := []*Bank{{DB: openFaulty(t, path, faults)}, {DB: openFaulty(t, path, faults)}}
	accounts := []string{"a", "b", "c"}
	var (
		mu         sync.Mutex
		hit        int
		unexpected = map[string]int{}
		wg         sync.WaitGroup
	)
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
				mu.Lock()
				switch {
				case err == nil, errors.Is(err, ErrInsufficientFunds):
				case strings.Contains(err.Error(), "injected fault"):
					hit++
				default:
					unexpected[err.Error()]++
				}
				stop := len(unexpected) > 0
				mu.Unlock()
				if stop {
					return // every later transfer would wait for the same lock
				}
			}
		}(g)
	}
	wg.Wait()
	inUse := banks[0].DB.Stats().InUse + banks[1].DB.Stats().InUse
	if len(unexpected) > 0 || inUse > 0 {
		var errs []string
		for text, n := range unexpected {
			errs = append(errs, fmt.Sprintf("%d × %s", n, text))
		}
		sort.Strings(errs)
		cfg.Fatalf(t, "transfers failed with errors other than the injected faults: %s (transfers hit by an injected fault: %d); connections still in use after every transfer returned: %d",
			strings.Join(errs, ", "), hit, inUse)
	}
	var total int64
	m := balances(t, banks[0].DB)
	for id, bal := range m {
		if bal < 0 {
			cfg.Fatalf(t, "account %s overdrawn: %d", id, bal)
		}
		total += bal
	}
	if total != 5000 {
		cfg.Fatalf(t, "total %d after %d transfers failed on injected faults, want 5000 (balances %v)", total, hit, m)
	}
}

// Package fakesql is a database/sql driver with no database behind it: the checklist fixtures
// open a pool (sql.Open("fakesql", ...)) without building cgo's SQLite. A connection opens,
// pings and closes; statements and transactions are refused.
package fakesql

import (
	"database/sql"
	"database/sql/driver"
	"errors"
)

type drv struct{}
type conn struct{}

func (drv) Open(string) (driver.Conn, error) { return conn{}, nil }

func (conn) Prepare(string) (driver.Stmt, error) { return nil, errors.New("fakesql: no statements") }
func (conn) Close() error                        { return nil }
func (conn) Begin() (driver.Tx, error)           { return nil, errors.New("fakesql: no transactions") }

func init() { sql.Register("fakesql", drv{}) }

// Package item reads orders from SQL.
package item

import (
	"context"
	"database/sql"
)

// Store reads orders.
type Store struct {
	DB *sql.DB
}

// FirstPending returns the id of the customer's oldest pending order, if any.
func (s *Store) FirstPending(ctx context.Context, customer string) (int64, bool, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT id, status FROM orders WHERE customer = ? ORDER BY id`, customer)
	defer rows.Close()
	if err != nil {
		return 0, false, err
	}
	for rows.Next() {
		var id int64
		var status string
		if err := rows.Scan(&id, &status); err != nil {
			return 0, false, err
		}
		if status == "pending" {
			return id, true, nil
		}
	}
	return 0, false, rows.Err()
}

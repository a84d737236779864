package item

import "testing"

func TestTransfer(t *testing.T) {
	a, b := NewAccount(1, 100), NewAccount(2, 0)
	if err := Transfer(a, b, 30); err != nil {
		t.Fatal(err)
	}
	if a.Balance() != 70 || b.Balance() != 30 {
		t.Fatalf("balances %d and %d, want 70 and 30", a.Balance(), b.Balance())
	}
	if err := Transfer(b, a, 31); err != ErrInsufficientFunds {
		t.Fatalf("Transfer of 31 from 30 = %v, want ErrInsufficientFunds", err)
	}
}

package item

import "testing"

func TestDepositWithdraw(t *testing.T) {
	var a Account
	a.Deposit(100)
	if err := a.Withdraw(30); err != nil {
		t.Fatal(err)
	}
	if got := a.Balance(); got != 70 {
		t.Fatalf("Balance() = %d, want 70", got)
	}
}

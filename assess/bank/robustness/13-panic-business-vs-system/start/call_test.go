package item

import (
	"errors"
	"testing"
)

func TestReturnedErrorUnchanged(t *testing.T) {
	want := &BusinessError{Code: "insufficient_funds", Msg: "balance too low"}
	if err := Call(func() error { return want }); err != want {
		t.Fatalf("err = %v, want the op's own error", err)
	}
	if err := Call(func() error { return nil }); err != nil {
		t.Fatalf("err = %v, want nil", err)
	}
}

func TestBusinessPanic(t *testing.T) {
	err := Call(func() error { panic(&BusinessError{Code: "invalid_amount", Msg: "amount must be positive"}) })
	var be *BusinessError
	if !errors.As(err, &be) || be.Code != "invalid_amount" {
		t.Fatalf("err = %#v, want the *BusinessError the op panicked with", err)
	}
	var se *SystemError
	if errors.As(err, &se) {
		t.Fatalf("a business failure was reported as a system error: %v", err)
	}
}

package item

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
)

func TestWrappedBusinessPanic(t *testing.T) {
	err := Call(func() error {
		panic(fmt.Errorf("transfer 42: %w", &BusinessError{Code: "insufficient_funds", Msg: "balance too low"}))
	})
	var be *BusinessError
	if !errors.As(err, &be) || be.Code != "insufficient_funds" {
		t.Fatalf("err = %#v, want a business error (a panic value that wraps *BusinessError)", err)
	}
	var se *SystemError
	if errors.As(err, &se) {
		t.Fatalf("a business failure was reported as a system error: %v", err)
	}
}

func explode() error {
	var balances map[string]int
	balances["alice"] -= 10 // nil map write: a bug
	return nil
}

func TestRuntimePanicIsSystem(t *testing.T) {
	err := Call(explode)
	var se *SystemError
	if !errors.As(err, &se) {
		t.Fatalf("err = %#v, want *SystemError", err)
	}
	var be *BusinessError
	if errors.As(err, &be) {
		t.Fatalf("a runtime panic was reported to the user as a business error: %v", be)
	}
	var re runtime.Error
	if !errors.As(err, &re) {
		t.Fatalf("SystemError does not keep the runtime.Error: Value = %#v", se.Value)
	}
	if !strings.Contains(string(se.Stack), "item.explode") {
		t.Fatalf("Stack does not show the panicking function:\n%s", se.Stack)
	}
}

func TestStringPanicIsSystem(t *testing.T) {
	err := Call(func() error { panic("unreachable state") })
	var se *SystemError
	if !errors.As(err, &se) || se.Value != "unreachable state" {
		t.Fatalf("err = %#v, want *SystemError holding the panic value", err)
	}
}

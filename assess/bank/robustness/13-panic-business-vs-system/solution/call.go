// Package item runs service operations for the RPC layer.
package item

import (
	"errors"
	"runtime/debug"
)

// Call runs op and turns its outcome into one error for the RPC layer. A panic is a
// business failure only when its value is (or wraps) a *BusinessError; anything else is a
// bug and becomes a *SystemError carrying the stack, never a message shown to the user.
func Call(op func() error) (err error) {
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		var be *BusinessError
		if e, ok := r.(error); ok && errors.As(e, &be) {
			err = e
			return
		}
		// Still on the panicking goroutine's stack here: debug.Stack shows where it failed.
		err = &SystemError{Value: r, Stack: debug.Stack()}
	}()
	return op()
}

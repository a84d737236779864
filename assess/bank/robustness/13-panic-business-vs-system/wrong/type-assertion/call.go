// Package item runs service operations for the RPC layer.
package item

import "runtime/debug"

// Call runs op; a panic with a *BusinessError is a business failure, anything else a bug.
func Call(op func() error) (err error) {
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		if be, ok := r.(*BusinessError); ok {
			err = be
			return
		}
		err = &SystemError{Value: r, Stack: debug.Stack()}
	}()
	return op()
}

// Package item runs service operations for the RPC layer.
package item

import "runtime/debug"

// Call runs op; every panic is treated as a system error.
func Call(op func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &SystemError{Value: r, Stack: debug.Stack()}
		}
	}()
	return op()
}

// Package item runs service operations for the RPC layer.
package item

import "errors"

// Call runs op; business panics become errors, every other panic is re-raised.
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
		panic(r)
	}()
	return op()
}

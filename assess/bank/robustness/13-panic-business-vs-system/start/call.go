// Package item runs service operations for the RPC layer.
package item

import "fmt"

// Call runs op and turns its outcome into one error for the RPC layer.
func Call(op func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &BusinessError{Code: "rejected", Msg: fmt.Sprint(r)}
		}
	}()
	return op()
}

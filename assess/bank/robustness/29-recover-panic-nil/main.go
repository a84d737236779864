package main

import "fmt"

// safely runs f and reports a panic in f as an error.
func safely(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("recovered: %v", r)
		}
	}()
	f()
	return nil
}

func main() {
	err := safely(func() {
		var cause error // a lookup "failed" without setting its error
		fmt.Println("step 1")
		panic(cause)
	})
	fmt.Println("err:", err)
}

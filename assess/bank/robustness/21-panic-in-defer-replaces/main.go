package main

import "fmt"

func save() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("recovered: %v", r)
		}
	}()
	defer func() {
		fmt.Println("closing file")
		panic("close failed")
	}()
	panic("write failed")
}

func main() {
	fmt.Println(save())
}

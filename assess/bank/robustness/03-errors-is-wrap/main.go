package main

import (
	"errors"
	"fmt"
)

var ErrNotFound = errors.New("not found")

func find(id int) error {
	return ErrNotFound
}

func loadW(id int) error {
	if err := find(id); err != nil {
		return fmt.Errorf("load %d: %w", id, err)
	}
	return nil
}

func loadV(id int) error {
	if err := find(id); err != nil {
		return fmt.Errorf("load %d: %v", id, err)
	}
	return nil
}

func main() {
	errW, errV := loadW(7), loadV(7)
	fmt.Println(errW == ErrNotFound, errors.Is(errW, ErrNotFound), errors.Is(errV, ErrNotFound))
}

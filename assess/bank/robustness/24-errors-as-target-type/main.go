package main

import (
	"errors"
	"fmt"
)

type NotFoundError struct{ Key string }

func (e *NotFoundError) Error() string { return "not found: " + e.Key }

func get(key string) error {
	return fmt.Errorf("get: %w", &NotFoundError{Key: key})
}

func main() {
	err := get("user:1")

	var p *NotFoundError
	fmt.Println(errors.As(err, &p), p.Key)

	var v NotFoundError
	fmt.Println(errors.As(err, &v), v.Key)
}

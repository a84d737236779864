package main

import "fmt"

type ValidationError struct{ Field string }

func (e *ValidationError) Error() string { return "invalid " + e.Field }

func validate(name string) error {
	var verr *ValidationError
	if name == "" {
		verr = &ValidationError{Field: "name"}
	}
	return verr
}

func main() {
	if err := validate("gopher"); err != nil {
		fmt.Println("rejected:", err)
		return
	}
	fmt.Println("accepted")
}

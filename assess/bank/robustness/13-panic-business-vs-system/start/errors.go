package item

import "fmt"

// BusinessError is an expected failure that the user must see, e.g. insufficient funds.
// The RPC layer maps it to a 4xx status and shows Msg.
type BusinessError struct {
	Code string
	Msg  string
}

func (e *BusinessError) Error() string { return e.Code + ": " + e.Msg }

// SystemError is an unexpected failure: a bug. The RPC layer logs Stack, answers 500 and
// shows users only "internal error".
type SystemError struct {
	Value any    // the recovered panic value
	Stack []byte // the stack of the goroutine that panicked
}

func (e *SystemError) Error() string { return fmt.Sprintf("internal error: %v", e.Value) }

// Unwrap exposes the panic value when it is an error (for example a runtime.Error).
func (e *SystemError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

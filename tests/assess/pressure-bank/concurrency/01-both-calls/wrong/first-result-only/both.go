// Package item runs two calls.
package item

// Both runs a and b at once and returns the first result.
func Both(a, b func() error) error {
	errs := make(chan error, 2)
	go func() { errs <- a() }()
	go func() { errs <- b() }()
	return <-errs
}

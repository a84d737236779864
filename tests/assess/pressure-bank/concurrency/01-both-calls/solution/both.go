// Package item runs two calls.
package item

// Both runs a and b at once and returns the first error, or nil. The channel has room for
// both results: a call that ends after Both has returned does not block.
func Both(a, b func() error) error {
	errs := make(chan error, 2)
	go func() { errs <- a() }()
	go func() { errs <- b() }()
	if err := <-errs; err != nil {
		return err
	}
	return <-errs
}

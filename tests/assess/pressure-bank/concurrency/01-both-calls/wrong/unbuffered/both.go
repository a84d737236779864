// Package item runs two calls.
package item

// Both runs a and b at once and returns the first error, or nil.
func Both(a, b func() error) error {
	errs := make(chan error)
	go func() { errs <- a() }()
	go func() { errs <- b() }()
	if err := <-errs; err != nil {
		return err
	}
	return <-errs
}

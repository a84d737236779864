// Package item runs two calls.
package item

// Both runs a and b and returns the first error, or nil.
func Both(a, b func() error) error {
	if err := a(); err != nil {
		return err
	}
	return b()
}

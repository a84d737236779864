package item

// Squares returns the square of every value of in, in order. It runs once per request on
// slices of a few thousand values.
func Squares(in []int) []int {
	out := make([]int, len(in)) // length, not capacity: append adds after len(in) zeros
	for _, v := range in {
		out = append(out, v*v)
	}
	return out
}

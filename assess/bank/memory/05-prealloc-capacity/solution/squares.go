package item

// Squares returns the square of every value of in, in order. It runs once per request on
// slices of a few thousand values.
func Squares(in []int) []int {
	out := make([]int, 0, len(in)) // the final size is known: allocate once
	for _, v := range in {
		out = append(out, v*v)
	}
	return out
}

package item

// Squares returns the square of every value of in, in order. It runs once per request on
// slices of a few thousand values.
func Squares(in []int) []int {
	out := make([]int, 0) // an empty slice still has to grow
	for _, v := range in {
		out = append(out, v*v)
	}
	return out
}

package item

// Squares returns the square of every value of in, in order. It runs once per request on
// slices of a few thousand values.
func Squares(in []int) []int {
	var out []int
	for _, v := range in {
		out = append(out, v*v)
	}
	return out
}

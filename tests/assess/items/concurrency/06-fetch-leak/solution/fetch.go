package item

// First starts n workers and returns the first result. The channel has room for every
// result, so the workers that lose still finish.
func First(n int) int {
	ch := make(chan int, n)
	for i := 0; i < n; i++ {
		go func(i int) { ch <- i * 10 }(i)
	}
	return <-ch
}

package item

// First starts n workers and returns the first result.
func First(n int) int {
	ch := make(chan int, 1)
	for i := 0; i < n; i++ {
		go func(i int) { ch <- i * 10 }(i)
	}
	return <-ch
}

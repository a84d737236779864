package main

import "fmt"

func closeAll() {
	fmt.Println("open db")
	defer fmt.Println("close db")
	fmt.Println("open file")
	defer fmt.Println("close file")
	fmt.Println("work")
}

func main() {
	closeAll()
	fmt.Println("done")
}

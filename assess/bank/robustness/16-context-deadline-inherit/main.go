package main

import (
	"context"
	"fmt"
	"time"
)

func main() {
	parent, cancelParent := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancelParent()

	// A dependency asks for a generous budget of one hour.
	child, cancelChild := context.WithTimeout(parent, time.Hour)
	pd, _ := parent.Deadline()
	cd, _ := child.Deadline()
	fmt.Println(cd.Equal(pd))

	cancelChild()
	fmt.Println(child.Err(), parent.Err())
}

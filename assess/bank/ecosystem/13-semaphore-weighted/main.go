package main

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/sync/semaphore"
)

func main() {
	sem := semaphore.NewWeighted(3) // three units of backend capacity
	fmt.Println(sem.TryAcquire(2), sem.TryAcquire(2), sem.TryAcquire(1))

	// A big job asks for 4 units and is willing to wait 20 ms.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	fmt.Println(sem.Acquire(ctx, 4))

	sem.Release(3)
	fmt.Println(sem.TryAcquire(3))
}

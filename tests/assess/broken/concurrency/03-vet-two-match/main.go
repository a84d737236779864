package main

import (
	"context"
	"time"
)

func main() {
	ctx, _ := context.WithTimeout(context.Background(), time.Second)
	<-ctx.Done()
}

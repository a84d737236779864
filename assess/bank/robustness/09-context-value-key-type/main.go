package main

import (
	"context"
	"fmt"
	"time"
)

type ctxKey string

const userKey ctxKey = "user"

func withUser(ctx context.Context, name string) context.Context {
	return context.WithValue(ctx, userKey, name)
}

func main() {
	ctx := withUser(context.Background(), "alice")
	timed, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()

	fmt.Println(ctx.Value("user"), ctx.Value(userKey), ctx.Value(ctxKey("user")), timed.Value(userKey))
}

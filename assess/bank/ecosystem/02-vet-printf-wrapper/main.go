package main

import (
	"log"
	"os"
)

var logger = log.New(os.Stdout, "auth: ", 0)

// logf is the service's logging helper.
func logf(format string, args ...any) {
	logger.Printf(format, args...)
}

func login(user string, attempts int) {
	logf("user %d logged in after %s attempts", user, attempts)
}

func main() {
	login("ann", 2)
}

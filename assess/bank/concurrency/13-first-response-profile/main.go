package main

import (
	"fmt"
	"os"
	"runtime/pprof"
	"time"
)

// askReplica sends the query to one replica and reports its answer on ch.
func askReplica(replica int, query string, ch chan<- string) {
	time.Sleep(time.Duration(replica) * time.Millisecond) // replica 0 is the fastest
	ch <- fmt.Sprintf("%s from replica %d", query, replica)
}

// query asks every replica and returns the first answer.
func query(q string, replicas int) string {
	ch := make(chan string)
	for r := 0; r < replicas; r++ {
		go askReplica(r, q, ch)
	}
	return <-ch
}

// worker serves requests from a fixed pool; idle workers wait for the next request.
func worker(requests <-chan string, answers chan<- string) {
	for q := range requests {
		answers <- query(q, 3)
	}
}

func main() {
	requests := make(chan string)
	answers := make(chan string)
	for i := 0; i < 4; i++ {
		go worker(requests, answers)
	}
	for i := 0; i < 20; i++ {
		requests <- fmt.Sprint("q", i)
		<-answers
	}

	settle()
	pprof.Lookup("goroutine").WriteTo(os.Stdout, 1)
}

package main

import (
	"fmt"
	"strings"
	"sync"
)

type record struct{ name, email string }

func parseRecord(line string) record {
	f := strings.Split(line, ",")
	return record{name: f[0], email: f[1]}
}

func importBatch(lines []string, out chan<- record, wg *sync.WaitGroup) {
	defer wg.Done()
	for _, l := range lines {
		out <- parseRecord(l)
	}
}

func main() {
	defer func() {
		if r := recover(); r != nil {
			fmt.Println("import failed:", r)
		}
	}()
	lines := []string{"ann,ann@example.com", "bob", "cy,cy@example.com"}
	out := make(chan record, len(lines))
	var wg sync.WaitGroup
	wg.Add(1)
	go importBatch(lines, out, &wg)
	wg.Wait()
	close(out)
	for r := range out {
		fmt.Println(r.name, r.email)
	}
}

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/pprof"
	"strings"

	"golang.org/x/sync/semaphore"
)

type Fetcher struct {
	sem *semaphore.Weighted // at most 3 downloads at once
}

func download(url string) (string, error) {
	if strings.HasSuffix(url, "/broken") {
		return "", errors.New("502 bad gateway")
	}
	return "<html>" + url + "</html>", nil
}

func (f *Fetcher) fetch(ctx context.Context, url string) (string, error) {
	if err := f.sem.Acquire(ctx, 1); err != nil {
		return "", err
	}
	body, err := download(url)
	if err != nil {
		return "", fmt.Errorf("fetch %s: %w", url, err)
	}
	f.sem.Release(1)
	return body, nil
}

// crawl fetches one page per request.
func crawl(ctx context.Context, f *Fetcher, url string, done chan<- string) {
	body, err := f.fetch(ctx, url)
	if err != nil {
		done <- err.Error()
		return
	}
	done <- body
}

// logWriter stores log lines; it waits for the next line when idle.
func logWriter(lines <-chan string) {
	for range lines {
	}
}

func main() {
	ctx := context.Background()
	f := &Fetcher{sem: semaphore.NewWeighted(3)}
	lines := make(chan string)
	for i := 0; i < 2; i++ {
		go logWriter(lines)
	}
	done := make(chan string, 100)
	for i := 0; i < 3; i++ {
		crawl(ctx, f, fmt.Sprintf("https://example.com/%d/broken", i), done)
	}
	for i := 0; i < 25; i++ {
		go crawl(ctx, f, fmt.Sprintf("https://example.com/page/%d", i), done)
	}

	settle()
	pprof.Lookup("goroutine").WriteTo(os.Stdout, 2)
}

package item

import (
	"context"
	"sync"
)

// Work handles one job. It returns early when ctx is cancelled.
type Work func(ctx context.Context, job int)

// Service handles submitted jobs one at a time in a background goroutine.
type Service struct {
	ch      chan int
	work    Work
	wg      sync.WaitGroup
	handled int // jobs finished; read it with Handled after Close
}

func NewService(work Work) *Service {
	s := &Service{ch: make(chan int, 1), work: work}
	s.wg.Add(1) // before the goroutine starts, so Close can never Wait ahead of it
	go func() {
		defer s.wg.Done()
		for job := range s.ch {
			s.work(context.Background(), job)
			s.handled++
		}
	}()
	return s
}

// Submit queues a job. It is never called concurrently with or after Close.
func (s *Service) Submit(job int) { s.ch <- job }

// Close stops the service: it ends the loop and returns once the goroutine has exited.
func (s *Service) Close() {
	close(s.ch)
	s.wg.Wait()
}

// Handled returns the number of jobs the service finished. Call it after Close.
func (s *Service) Handled() int { return s.handled }

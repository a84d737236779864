package item

import "context"

// Work handles one job. It returns early when ctx is cancelled.
type Work func(ctx context.Context, job int)

// Service handles submitted jobs one at a time in a background goroutine.
type Service struct {
	ch      chan int
	work    Work
	cancel  context.CancelFunc
	handled int // jobs finished; read it with Handled after Close
}

func NewService(work Work) *Service {
	ctx, cancel := context.WithCancel(context.Background())
	s := &Service{ch: make(chan int, 1), work: work, cancel: cancel}
	go func() {
		for job := range s.ch {
			if ctx.Err() != nil {
				return // closed: skip the jobs still queued
			}
			s.work(ctx, job)
			s.handled++
		}
	}()
	return s
}

// Submit queues a job. It is never called concurrently with or after Close.
func (s *Service) Submit(job int) { s.ch <- job }

// Close stops the service: it cancels the running job and ends the loop.
func (s *Service) Close() {
	s.cancel()
	close(s.ch) // returns at once: the goroutine may still be running
}

// Handled returns the number of jobs the service finished. Call it after Close.
func (s *Service) Handled() int { return s.handled }

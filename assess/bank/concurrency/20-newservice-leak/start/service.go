package item

import "context"

// Work handles one job. It returns early when ctx is cancelled.
type Work func(ctx context.Context, job int)

// Service handles submitted jobs one at a time in a background goroutine.
type Service struct {
	ch      chan int
	work    Work
	handled int // jobs finished; read it with Handled after Close
}

func NewService(work Work) *Service {
	s := &Service{ch: make(chan int, 1), work: work}
	go func() {
		for job := range s.ch { // nothing ever ends this loop: the goroutine leaks
			s.work(context.TODO(), job)
			s.handled++
		}
	}()
	return s
}

// Submit queues a job. It is never called concurrently with or after Close.
func (s *Service) Submit(job int) { s.ch <- job }

// Close stops the service.
func (s *Service) Close() {}

// Handled returns the number of jobs the service finished. Call it after Close.
func (s *Service) Handled() int { return s.handled }

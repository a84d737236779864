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
		for {
			select {
			case <-ctx.Done():
				return
			case job := <-s.ch:
				s.work(ctx, job)
				s.handled++
			}
		}
	}()
	return s
}

// Submit queues a job. It is never called concurrently with or after Close.
func (s *Service) Submit(job int) { s.ch <- job }

// Close stops the service.
func (s *Service) Close() { s.cancel() } // the goroutine exits soon, but Close does not wait for it

// Handled returns the number of jobs the service finished. Call it after Close.
func (s *Service) Handled() int { return s.handled }

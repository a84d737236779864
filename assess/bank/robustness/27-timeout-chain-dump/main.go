// A checkout service under a load test. Each request is bounded by a timeout (3 s in
// production, 10 ms here); a fraud-scoring call runs next to the payment.
package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime/metrics"
	"runtime/pprof"
	"sync"
	"time"
)

// FraudClient calls the fraud-scoring service. During the incident it answers only after
// the requests have given up (released by the load test).
type FraudClient struct {
	released chan struct{}
	inflight sync.WaitGroup
}

func (f *FraudClient) Score(ctx context.Context, order string) (int, error) {
	defer f.inflight.Done()
	select {
	case <-f.released:
		return 7, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// PaymentClient charges the card; it is fast and honours ctx.
type PaymentClient struct{}

func (PaymentClient) Charge(ctx context.Context, order string) error { return ctx.Err() }

// Mailer sends receipts from a fixed pool of workers.
type Mailer struct{ queue chan string }

func (m *Mailer) run() {
	for range m.queue {
	}
}

type Server struct {
	fraud *FraudClient
	pay   PaymentClient
	mail  *Mailer
}

func (s *Server) checkout(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	order := r.URL.Query().Get("order")

	scores := make(chan int)
	s.fraud.inflight.Add(1)
	go func() {
		score, _ := s.fraud.Score(context.Background(), order)
		scores <- score
	}()
	if err := s.pay.Charge(ctx, order); err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	select {
	case score := <-scores:
		fmt.Fprintf(w, "order %s accepted (score %d)\n", order, score)
	case <-ctx.Done():
		http.Error(w, "checkout timed out", http.StatusGatewayTimeout)
	}
}

var timeout = 10 * time.Millisecond

func goroutines() uint64 {
	s := []metrics.Sample{{Name: "/sched/goroutines:goroutines"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func main() {
	s := &Server{fraud: &FraudClient{released: make(chan struct{})}, mail: &Mailer{queue: make(chan string)}}
	for i := 0; i < 4; i++ {
		go s.mail.run()
	}
	for i := 1; i <= 30; i++ {
		rec := httptest.NewRecorder()
		s.checkout(rec, httptest.NewRequest("POST", fmt.Sprintf("/checkout?order=%d", i), nil))
		if i%10 == 0 {
			fmt.Printf("after %d requests: status %d, goroutines %d\n", i, rec.Code, goroutines())
		}
	}
	close(s.fraud.released) // the fraud service finally answers
	s.fraud.inflight.Wait()
	fmt.Printf("after the fraud service answered: goroutines %d\n\n", goroutines())
	pprof.Lookup("goroutine").WriteTo(os.Stdout, 1)
}

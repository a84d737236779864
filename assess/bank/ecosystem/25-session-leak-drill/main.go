// Fault drill: the chat gateway's goroutine count climbs all day. This program replays three
// waves of traffic (new and resumed sessions that all disconnect again) and samples
// /sched/goroutines:goroutines after each wave, as the monitoring does; when the growth
// passes the alert threshold it pulls /debug/pprof/goroutine?debug=2.
package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	_ "net/http/pprof"
	"os"
	"runtime/metrics"
	"time"
)

type session struct {
	id   int
	done chan struct{}
}

// newSession opens a fresh session.
func newSession(id int) *session {
	s := &session{id: id, done: make(chan struct{})}
	go s.awaitClose()
	return s
}

// resumeSession restores a session after a reconnect.
func resumeSession(id int) *session {
	s := &session{id: id}
	go s.awaitClose()
	return s
}

// awaitClose releases the session's resources once it ends.
func (s *session) awaitClose() {
	<-s.done
	// release buffers, unsubscribe from rooms, ...
}

func (s *session) Close() {
	if s.done != nil { // close(nil) panicked in production
		close(s.done)
	}
}

// Pool sends push notifications.
type Pool struct{ jobs chan string }

func (p *Pool) worker() {
	for range p.jobs {
	}
}

// report publishes gateway statistics once a minute until quit is closed.
func report(quit <-chan struct{}) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-quit:
			return
		}
	}
}

func goroutines() uint64 {
	s := []metrics.Sample{{Name: "/sched/goroutines:goroutines"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// settle waits until the goroutines of the closed sessions have finished what they can.
func settle(want uint64) {
	for goroutines() != want {
		time.Sleep(time.Millisecond)
	}
}

func main() {
	pool := &Pool{jobs: make(chan string)}
	for i := 0; i < 8; i++ {
		go pool.worker()
	}
	go report(make(chan struct{}))
	const base = 1 + 8 + 1
	settle(base)
	fmt.Printf("start: goroutines %d\n", goroutines())
	for wave := 1; wave <= 3; wave++ {
		var sessions []*session
		for i := 0; i < 10; i++ {
			sessions = append(sessions, newSession(wave*100+i), resumeSession(wave*100+50+i))
		}
		for _, s := range sessions {
			s.Close()
		}
		settle(base + uint64(wave)*10)
		fmt.Printf("wave %d: 20 sessions opened and closed, goroutines %d\n", wave, goroutines())
	}
	fmt.Println("alert: goroutines grow by 10 per wave; pulling /debug/pprof/goroutine?debug=2")
	fmt.Println()
	rec := httptest.NewRecorder()
	http.DefaultServeMux.ServeHTTP(rec, httptest.NewRequest("GET", "/debug/pprof/goroutine?debug=2", nil))
	os.Stdout.Write(rec.Body.Bytes())
}

package main

import (
	"os"
	"runtime/pprof"
	"time"
)

type Event struct{ ID int }

type Dispatcher struct {
	queue chan Event
}

// Publish never blocks the caller: when the queue is full, a goroutine delivers the event later.
func (d *Dispatcher) Publish(ev Event) {
	select {
	case d.queue <- ev:
	default:
		go d.deliverLater(ev)
	}
}

func (d *Dispatcher) deliverLater(ev Event) {
	d.queue <- ev
}

// consume handles events until one fails; then it returns (the error is logged elsewhere).
func consume(queue <-chan Event, done chan<- struct{}) {
	defer close(done)
	for ev := range queue {
		if ev.ID == 10 { // a poison event: the consumer gives up
			return
		}
	}
}

// reportMetrics wakes up once a minute to export counters until quit is closed.
func reportMetrics(quit <-chan struct{}) {
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
		case <-quit:
			return
		}
	}
}

func main() {
	d := &Dispatcher{queue: make(chan Event, 16)}
	quit := make(chan struct{})
	done := make(chan struct{})
	go reportMetrics(quit)
	go consume(d.queue, done)

	for id := 1; id <= 10; id++ {
		d.Publish(Event{ID: id})
	}
	<-done // the consumer has hit the poison event
	for id := 11; id <= 200; id++ {
		d.Publish(Event{ID: id})
	}

	settle()
	pprof.Lookup("goroutine").WriteTo(os.Stdout, 2)
}

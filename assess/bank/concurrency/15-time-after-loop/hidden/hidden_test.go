package item

import (
	"testing"
	"time"
)

// Draining a busy channel must not allocate per message.
func TestDrainAllocations(t *testing.T) {
	const msgs = 1000
	allocs := testing.AllocsPerRun(5, func() {
		in := make(chan string, msgs)
		for i := 0; i < msgs; i++ {
			in <- "m"
		}
		close(in)
		if n := Drain(in, time.Minute, func(string) {}); n != msgs {
			t.Fatalf("Drain = %d, want %d", n, msgs)
		}
	})
	if allocs > 10 {
		t.Fatalf("Drain of %d messages made %.0f allocations; want at most 10 (one timer, not one per message)", msgs, allocs)
	}
}

// Drain returns once the channel has been quiet for the idle time.
func TestDrainStopsWhenIdle(t *testing.T) {
	in := make(chan string)
	go func() {
		for i := 0; i < 3; i++ {
			in <- "m"
		}
	}()
	start := time.Now()
	if n := Drain(in, 100*time.Millisecond, func(string) {}); n != 3 {
		t.Fatalf("Drain = %d, want 3", n)
	}
	if time.Since(start) > 10*time.Second {
		t.Fatal("Drain did not return after the channel went quiet")
	}
}

// The idle time counts from the last message, not from the start of Drain.
func TestDrainIdleRestartsAfterEachMessage(t *testing.T) {
	in := make(chan string)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for i := 0; i < 10; i++ {
			select {
			case <-time.After(60 * time.Millisecond):
			case <-stop:
				return
			}
			select {
			case in <- "m":
			case <-stop:
				return
			}
		}
	}()
	if n := Drain(in, 250*time.Millisecond, func(string) {}); n != 10 {
		t.Fatalf("Drain = %d, want 10: a message every 60 ms never leaves the channel idle for 250 ms", n)
	}
}

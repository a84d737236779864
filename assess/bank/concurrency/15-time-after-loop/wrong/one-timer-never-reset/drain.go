package item

import "time"

// Drain hands every message from in to handle until in is closed or no message has arrived
// for idle, and returns how many messages it handled. It runs for the whole life of a
// connection, so it handles millions of messages.
func Drain(in <-chan string, idle time.Duration, handle func(string)) int {
	timer := time.NewTimer(idle)
	defer timer.Stop()
	n := 0
	for {
		select {
		case m, ok := <-in:
			if !ok {
				return n
			}
			handle(m)
			n++
		case <-timer.C:
			return n
		}
	}
}

package item

import "time"

// Drain hands every message from in to handle until in is closed or no message has arrived
// for idle, and returns how many messages it handled. It runs for the whole life of a
// connection, so it handles millions of messages.
func Drain(in <-chan string, idle time.Duration, handle func(string)) int {
	// One timer for the whole loop: time.After would allocate a timer per message, and each
	// would stay in the runtime's timer heap until it fired.
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
			if !timer.Stop() {
				<-timer.C // it fired while we were busy: drain it before Reset
			}
			timer.Reset(idle)
		case <-timer.C:
			return n
		}
	}
}

package pressure

import (
	"context"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Faults decides which operations fail or stall. Operation i (the i-th call of Next, counted
// from 0) is faulted when a hash of (Seed, i) falls below Rate; a faulted operation first
// waits Delay ± Jitter (uniform, also from the hash), then fails with Err, or proceeds when
// Err is nil. The wrappers (Handler, RoundTripper, Conn, Listener, Dialer) draw one index per
// request or connection. Set the fields before the first operation; do not copy a Faults.
type Faults struct {
	Rate   float64
	Seed   uint64
	Delay  time.Duration
	Jitter time.Duration
	Err    error

	ops atomic.Uint64
}

// Faults returns the faults this configuration asks for: Rate and Seed set, no delay, no error.
func (c Config) Faults() *Faults { return &Faults{Rate: c.Rate, Seed: c.Seed} }

// splitmix64's finalizer: consecutive inputs give independent-looking outputs.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// roll is a number in [0, 1) for operation i; stream 0 decides the fault, stream 1 the delay.
func (f *Faults) roll(i, stream uint64) float64 {
	return float64(mix(f.Seed^mix(2*i+stream))>>11) / (1 << 53)
}

// Hit reports whether operation i is faulted.
func (f *Faults) Hit(i uint64) bool { return f.roll(i, 0) < f.Rate }

// DelayOf is how long faulted operation i waits: Delay ± Jitter, never negative.
func (f *Faults) DelayOf(i uint64) time.Duration {
	d := f.Delay - f.Jitter + time.Duration(f.roll(i, 1)*float64(2*f.Jitter))
	if d < 0 {
		return 0
	}
	return d
}

// Next takes the next operation's index and says whether it is faulted.
func (f *Faults) Next() (i uint64, hit bool) {
	i = f.ops.Add(1) - 1
	return i, f.Hit(i)
}

// Ops is the number of operations so far; Injected how many of them were faulted.
func (f *Faults) Ops() int { return int(f.ops.Load()) }

func (f *Faults) Injected() int {
	n := 0
	for i := uint64(0); i < f.ops.Load(); i++ {
		if f.Hit(i) {
			n++
		}
	}
	return n
}

// wait sleeps operation i's delay, or less when done closes first (then it returns false).
func (f *Faults) wait(i uint64, done <-chan struct{}) bool {
	d := f.DelayOf(i)
	if d == 0 {
		return true
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-done:
		return false
	}
}

// Handler is h behind a faulty network, server side: a faulted request waits its delay (or
// until the client gives up: then nothing is served), then gets 503 with Err's text, or h.
func (f *Faults) Handler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i, hit := f.Next()
		if hit {
			if !f.wait(i, r.Context().Done()) {
				return
			}
			if f.Err != nil {
				http.Error(w, f.Err.Error(), http.StatusServiceUnavailable)
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

// RoundTripper is rt behind a faulty network, client side: a faulted round trip waits its
// delay (returning the request context's error if it ends first), then fails with Err, or
// goes through rt.
func (f *Faults) RoundTripper(rt http.RoundTripper) http.RoundTripper {
	return roundTripper{f, rt}
}

type roundTripper struct {
	f  *Faults
	rt http.RoundTripper
}

func (t roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	i, hit := t.f.Next()
	if hit {
		fail := func(err error) (*http.Response, error) {
			if req.Body != nil {
				req.Body.Close() // RoundTrip closes the body, even on errors
			}
			return nil, err
		}
		if !t.f.wait(i, req.Context().Done()) {
			return fail(req.Context().Err())
		}
		if t.f.Err != nil {
			return fail(t.f.Err)
		}
	}
	return t.rt.RoundTrip(req)
}

// Conn is c behind a faulty network. On a faulted connection every Read and Write first waits
// the connection's delay (Close ends the wait); with Err set, the first Write sends only the
// first half of its bytes, then the connection is closed and the Write fails with Err: the
// peer sees a message (a request, a response) cut off mid-way.
func (f *Faults) Conn(c net.Conn) net.Conn {
	i, hit := f.Next()
	if !hit {
		return c
	}
	return &conn{Conn: c, f: f, i: i, closed: make(chan struct{})}
}

type conn struct {
	net.Conn
	f         *Faults
	i         uint64
	closed    chan struct{}
	closeOnce sync.Once
	cut       atomic.Bool
}

func (c *conn) Close() error {
	c.closeOnce.Do(func() { close(c.closed) })
	return c.Conn.Close()
}

func (c *conn) Read(p []byte) (int, error) {
	if !c.f.wait(c.i, c.closed) {
		return 0, net.ErrClosed
	}
	return c.Conn.Read(p)
}

func (c *conn) Write(p []byte) (int, error) {
	if !c.f.wait(c.i, c.closed) {
		return 0, net.ErrClosed
	}
	if c.f.Err != nil && c.cut.CompareAndSwap(false, true) {
		n, _ := c.Conn.Write(p[:len(p)/2])
		c.Close()
		return n, c.f.Err
	}
	return c.Conn.Write(p)
}

// Listener is l whose accepted connections go through Conn (server side).
func (f *Faults) Listener(l net.Listener) net.Listener { return listener{l, f} }

type listener struct {
	net.Listener
	f *Faults
}

func (l listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return l.f.Conn(c), nil
}

// DialFunc is the signature of net.Dialer.DialContext and http.Transport.DialContext.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// Dialer is dial whose connections go through Conn (client side):
//
//	tr := &http.Transport{DialContext: faults.Dialer((&net.Dialer{}).DialContext)}
func (f *Faults) Dialer(dial DialFunc) DialFunc {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return f.Conn(c), nil
	}
}

package pressure

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestFromEnv(t *testing.T) {
	t.Setenv("ASSESS_PRESSURE", "")
	t.Setenv("ASSESS_PRESSURE_SEED", "")
	t.Setenv("ASSESS_PRESSURE_RATE", "")
	t.Setenv("ASSESS_PRESSURE_MAX_GOROUTINES", "")
	c, err := FromEnv()
	if err != nil || c != (Config{Seed: 1, Rate: 0.10, MaxGoroutines: 5000}) || Enabled() {
		t.Fatalf("defaults: %+v, %v, enabled %v", c, err, Enabled())
	}
	if s := c.String(); s != "10% faults, seed 1" {
		t.Fatalf("String() = %q", s)
	}
	t.Setenv("ASSESS_PRESSURE", "1")
	t.Setenv("ASSESS_PRESSURE_SEED", "7")
	t.Setenv("ASSESS_PRESSURE_RATE", "0.25")
	t.Setenv("ASSESS_PRESSURE_MAX_GOROUTINES", "300")
	if c, err = FromEnv(); err != nil || c != (Config{Seed: 7, Rate: 0.25, MaxGoroutines: 300}) || !Enabled() {
		t.Fatalf("from the environment: %+v, %v", c, err)
	}
	t.Setenv("ASSESS_PRESSURE_RATE", "1.5")
	if _, err = FromEnv(); err == nil || !strings.Contains(err.Error(), "ASSESS_PRESSURE_RATE") {
		t.Fatalf("a rate of 1.5: %v", err)
	}
}

func TestFaultsAreAFunctionOfSeedAndIndex(t *testing.T) {
	a, b, other := &Faults{Rate: 0.1, Seed: 1}, &Faults{Rate: 0.1, Seed: 1}, &Faults{Rate: 0.1, Seed: 2}
	hits, differ := 0, 0
	for i := uint64(0); i < 10000; i++ {
		if a.Hit(i) != b.Hit(i) {
			t.Fatalf("operation %d: two Faults with the same seed disagree", i)
		}
		if a.Hit(i) {
			hits++
		}
		if a.Hit(i) != other.Hit(i) {
			differ++
		}
	}
	if hits < 900 || hits > 1100 {
		t.Fatalf("%d of 10000 operations faulted at rate 0.1", hits)
	}
	if differ < 1000 {
		t.Fatalf("seeds 1 and 2 differ on %d of 10000 operations only", differ)
	}
	j := &Faults{Delay: 100 * time.Millisecond, Jitter: 50 * time.Millisecond}
	min, max := time.Hour, time.Duration(0)
	for i := uint64(0); i < 1000; i++ {
		d := j.DelayOf(i)
		if d < min {
			min = d
		}
		if d > max {
			max = d
		}
	}
	if min < 50*time.Millisecond || max > 150*time.Millisecond || max-min < 90*time.Millisecond {
		t.Fatalf("100ms ± 50ms delays span %v..%v", min, max)
	}
	for n := 0; n < 100; n++ {
		a.Next()
	}
	if a.Ops() != 100 || a.Injected() == 0 || a.Injected() > 30 {
		t.Fatalf("after 100 operations: Ops %d, Injected %d", a.Ops(), a.Injected())
	}
}

func TestHandlerAnswers503OnFaultedRequests(t *testing.T) {
	f := &Faults{Rate: 0.3, Seed: 3, Err: ErrInjected}
	srv := httptest.NewServer(f.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	})))
	defer srv.Close()
	failed := 0
	for i := 0; i < 50; i++ {
		resp, err := http.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusServiceUnavailable {
			failed++
			if !strings.Contains(string(body), "injected fault") {
				t.Fatalf("a faulted request's body: %q", body)
			}
		}
	}
	if failed != f.Injected() || failed == 0 {
		t.Fatalf("%d requests failed, %d were faulted", failed, f.Injected())
	}
}

type okTransport struct{}

func (okTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("ok")), Request: req}, nil
}

func TestRoundTripperDelaysUntilTheRequestGivesUp(t *testing.T) {
	f := &Faults{Rate: 1, Delay: time.Hour}
	client := &http.Client{Transport: f.RoundTripper(okTransport{})}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://example.invalid/", nil)
	if _, err := client.Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a stalled round trip returned %v, want the request's deadline", err)
	}
	f = &Faults{Rate: 1, Err: ErrInjected}
	client = &http.Client{Transport: f.RoundTripper(okTransport{})}
	if _, err := client.Get("http://example.invalid/"); !errors.Is(err, ErrInjected) {
		t.Fatalf("a failed round trip returned %v, want ErrInjected", err)
	}
	f = &Faults{Rate: 0, Err: ErrInjected}
	client = &http.Client{Transport: f.RoundTripper(okTransport{})}
	if resp, err := client.Get("http://example.invalid/"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("an unfaulted round trip: %v, %v", resp, err)
	}
}

func TestDialerCutsARequestInHalf(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan int, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- -1
			return
		}
		defer c.Close()
		b, _ := io.ReadAll(c)
		got <- len(b)
	}()
	f := &Faults{Rate: 1, Err: ErrInjected}
	c, err := f.Dialer((&net.Dialer{}).DialContext)(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if n, err := c.Write(make([]byte, 1000)); n != 500 || !errors.Is(err, ErrInjected) {
		t.Fatalf("Write = %d, %v; want 500 bytes and ErrInjected", n, err)
	}
	if n := <-got; n != 500 {
		t.Fatalf("the peer read %d bytes, want the first 500", n)
	}
	if _, err := c.Write([]byte("x")); err == nil {
		t.Fatal("a write after the cut succeeded")
	}
}

func TestListenerDelaysFaultedConnections(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &Faults{Rate: 1, Delay: time.Hour}
	ln := f.Listener(inner)
	defer ln.Close()
	read := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			read <- err
			return
		}
		go func() { time.Sleep(20 * time.Millisecond); c.Close() }()
		_, err = c.Read(make([]byte, 1))
		read <- err
	}()
	c, err := net.Dial("tcp", inner.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("x"))
	if err := <-read; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("a Read stalled by the fault returned %v after Close, want net.ErrClosed", err)
	}
}

func TestLoadCountsOutcomesAndStuckOperations(t *testing.T) {
	res := Load{N: 40, Rate: 2000}.Run(context.Background(), func(ctx context.Context, i int) error {
		if i%4 == 0 {
			return fmt.Errorf("request %d: %w", i, ErrInjected)
		}
		return nil
	})
	if res.N != 40 || res.OK != 30 || res.Failed != 10 || res.Errors["injected fault"] != 10 || res.Stuck != 0 {
		t.Fatalf("result %+v", res)
	}
	if s := res.String(); !strings.Contains(s, "30 ok, 10 failed (10 × injected fault), 0 still running") {
		t.Fatalf("String() = %q", s)
	}
	release := make(chan struct{})
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	res = Load{N: 10, Rate: 1000, Timeout: time.Millisecond}.Run(ctx, func(ctx context.Context, i int) error {
		if i < 3 {
			<-release // ignores its context: stuck
			return nil
		}
		<-ctx.Done()
		return ctx.Err()
	})
	if res.Stuck != 3 || res.Failed != 7 || res.Errors[context.DeadlineExceeded.Error()] != 7 {
		t.Fatalf("result %+v", res)
	}
}

// recorder is a testing.TB whose Fatalf records the message (and does not stop the test).
type recorder struct {
	testing.TB
	mu  sync.Mutex
	msg string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msg = fmt.Sprintf(format, args...)
}

func leak(n int) (stop func()) {
	block := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-block
		}()
	}
	return func() { close(block); wg.Wait() }
}

func TestWatchReportsGoroutinesThatStay(t *testing.T) {
	rec := &recorder{TB: t}
	cfg := Config{Seed: 1, Rate: 0.1, MaxGoroutines: 5000}
	w := Watch(rec, cfg)
	stop := leak(40)
	defer stop()
	time.Sleep(30 * time.Millisecond)
	w.Settle(50*time.Millisecond, 5)
	for _, want := range []string{"pressure: goroutines grew", "(10% faults, seed 1)", "were left, more than",
		"goroutines every", "goroutine profile: total", "40 × [chan receive] assess/pressure.leak.func1"} {
		if !strings.Contains(rec.msg, want) {
			t.Errorf("the failure lacks %q:\n%s", want, rec.msg)
		}
	}
}

func TestWatchPassesWhenGoroutinesEnd(t *testing.T) {
	rec := &recorder{TB: t}
	w := Watch(rec, Config{Seed: 1, Rate: 0.1, MaxGoroutines: 5000})
	stop := leak(40)
	go func() { time.Sleep(30 * time.Millisecond); stop() }()
	w.Settle(10*time.Second, 5)
	if rec.msg != "" {
		t.Fatalf("goroutines that ended were reported: %s", rec.msg)
	}
}

func TestWatchReportsTheBound(t *testing.T) {
	rec := &recorder{TB: t}
	w := Watch(rec, Config{Seed: 1, Rate: 0.1, MaxGoroutines: 60})
	stop := leak(100)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		w.mu.Lock()
		seen := w.over != ""
		w.mu.Unlock()
		if seen {
			break
		}
	}
	stop()
	w.Settle(10*time.Second, 5)
	if !strings.Contains(rec.msg, "over the bound of 60") || !strings.Contains(rec.msg, "at the bound: goroutine profile") ||
		!strings.Contains(rec.msg, "100 × [chan receive]") {
		t.Fatalf("the failure:\n%s", rec.msg)
	}
}

func TestSummarizeGroupsByStateAndStack(t *testing.T) {
	dump := `goroutine 1 [running]:
main.main()
	/item/main.go:10 +0x1d

goroutine 2 [chan receive]:
testing.(*T).Run(0xc000007a00, {0x5e9c1b, 0x8}, 0x5f1d28)
	/usr/lib/go-1.19/src/testing/testing.go:1494 +0x37a

goroutine 7 [chan send, 2 minutes]:
item.Search.func1()
	/item/search.go:31 +0x8a
created by item.Search
	/item/search.go:27 +0x11e

goroutine 8 [chan send]:
item.Search.func1()
	/item/search.go:31 +0x8a
created by item.Search
	/item/search.go:27 +0x11e

goroutine 9 [IO wait]:
internal/poll.runtime_pollWait(0x7f, 0x72)
	/usr/lib/go-1.19/src/runtime/netpoll.go:305 +0x89
item.(*Client).get(0xc000010000, {0x6f, 0x3})
	/item/client.go:12 +0x2a
created by item.Search
	/item/search.go:27 +0x11e
`
	got := summarize(dump, 2)
	want := `goroutine profile: total 5
  2 × [chan send] item.Search.func1 /item/search.go:31, created by item.Search /item/search.go:27
  1 × [IO wait] internal/poll.runtime_pollWait /usr/lib/go-1.19/src/runtime/netpoll.go:305, in item.(*Client).get /item/client.go:12, created by item.Search /item/search.go:27
  ... 1 more groups`
	if got != want {
		t.Fatalf("summarize:\n%s\nwant:\n%s", got, want)
	}
	if thousands(5012) != "5,012" || thousands(999) != "999" || thousands(1234567) != "1,234,567" {
		t.Fatal("thousands")
	}
}

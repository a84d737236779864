package pressure

import (
	"bytes"
	"fmt"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// Watcher samples the number of goroutines (runtime.NumGoroutine) every 10 ms, from Watch to
// Settle: the seed's "watch goroutine growth; > 5000 goroutines: leak analysis".
type Watcher struct {
	t    testing.TB
	cfg  Config
	base int
	stop chan struct{}
	done chan struct{}

	mu      sync.Mutex
	samples []int  // the first maxSamples samples
	peak    int    // the largest sample
	over    string // the goroutine summary when the count first passed cfg.MaxGoroutines
}

const (
	sampleEvery = 10 * time.Millisecond
	maxSamples  = 10000
)

// Watch starts sampling; the baseline is the number of goroutines now (the sampler included).
// Call Settle after the load; a test that ends first stops the sampler in its cleanup.
func Watch(t testing.TB, cfg Config) *Watcher {
	w := &Watcher{t: t, cfg: cfg, stop: make(chan struct{}), done: make(chan struct{})}
	w.base = runtime.NumGoroutine() + 1 // and the sampler
	w.peak = w.base
	go w.sample()
	t.Cleanup(w.halt)
	return w
}

func (w *Watcher) sample() {
	defer close(w.done)
	tick := time.NewTicker(sampleEvery)
	defer tick.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-tick.C:
		}
		n := runtime.NumGoroutine()
		w.mu.Lock()
		if len(w.samples) < maxSamples {
			w.samples = append(w.samples, n)
		}
		if n > w.peak {
			w.peak = n
		}
		first := n > w.cfg.MaxGoroutines && w.over == ""
		w.mu.Unlock()
		if first {
			s := Summary(5) // outside the lock: a dump of thousands of goroutines takes a while
			w.mu.Lock()
			w.over = s
			w.mu.Unlock()
		}
	}
}

func (w *Watcher) halt() {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.done
}

// Settle stops sampling and fails the test when the count passed cfg.MaxGoroutines at some
// sample, or when it does not come back to at most baseline + slack within `within` (polled
// every 10 ms: a right solution's goroutines end soon after the load, a leak's never do). The
// failure shows the growth, the samples over time and the largest groups of the dump.
func (w *Watcher) Settle(within time.Duration, slack int) {
	w.t.Helper()
	w.halt()
	now := runtime.NumGoroutine()
	for deadline := time.Now().Add(within); now > w.base+slack && time.Now().Before(deadline); now = runtime.NumGoroutine() {
		time.Sleep(sampleEvery)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case w.over != "":
		w.cfg.Fatalf(w.t, "goroutines grew %d → %s, over the bound of %s\n%s\nat the bound: %s",
			w.base, thousands(w.peak), thousands(w.cfg.MaxGoroutines), w.series(), w.over)
	case now > w.base+slack:
		w.cfg.Fatalf(w.t, "goroutines grew %d → %s under load; %v after it %s were left, more than %d + %d\n%s\n%s",
			w.base, thousands(w.peak), within, thousands(now), w.base, slack, w.series(), Summary(5))
	}
}

// series: at most 16 samples, evenly spaced, as a line.
func (w *Watcher) series() string {
	s := w.samples
	step := (len(s) + 15) / 16
	if step == 0 {
		return "goroutines every 10ms: (no samples)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "goroutines every %v:", time.Duration(step)*sampleEvery)
	for i := 0; i < len(s); i += step {
		fmt.Fprintf(&b, " %d", s[i])
	}
	return b.String()
}

// thousands formats n with commas: 5,012.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// Summary is the goroutine dump (pprof "goroutine", debug=2) grouped by wait state and
// stack, the `top` largest groups first, one line each: the count, the state, the innermost
// frame, the first frame of the code under test (package item or main) when that is another,
// and where the goroutines were created. The total counts every goroutine; the groups leave
// out the test framework's own (blocked in package testing).
func Summary(top int) string {
	var buf bytes.Buffer
	pprof.Lookup("goroutine").WriteTo(&buf, 2)
	return summarize(buf.String(), top)
}

type group struct {
	state  string
	frames []string // "function file:line", innermost first
	count  int
}

func summarize(dump string, top int) string {
	groups := map[string]*group{}
	total := 0
	for _, block := range strings.Split(strings.TrimSpace(dump), "\n\n") {
		lines := strings.Split(block, "\n")
		header := lines[0]
		open, end := strings.IndexByte(header, '['), strings.LastIndexByte(header, ']')
		if !strings.HasPrefix(header, "goroutine ") || open < 0 || end < open {
			continue
		}
		if strings.Contains(block, "runtime/pprof.writeGoroutineStacks") {
			continue // the goroutine taking this dump
		}
		total++
		if len(lines) > 1 && strings.HasPrefix(lines[1], "testing.") {
			continue // the test framework's own (the main goroutine waiting for the test, ...)
		}
		state, _, _ := strings.Cut(header[open+1:end], ",") // drop ", 2 minutes", ", locked to thread"
		g := &group{state: state}
		for i := 1; i+1 < len(lines); i += 2 {
			fn := lines[i]
			if p := strings.LastIndexByte(fn, '('); p > 0 && !strings.HasPrefix(fn, "created by ") {
				fn = fn[:p] // the arguments
			}
			loc, _, _ := strings.Cut(strings.TrimSpace(lines[i+1]), " +0x")
			g.frames = append(g.frames, fn+" "+loc)
		}
		key := state + "\n" + strings.Join(g.frames, "\n")
		if old, ok := groups[key]; ok {
			old.count++
		} else {
			g.count = 1
			groups[key] = g
		}
	}
	var list []*group
	for _, g := range groups {
		list = append(list, g)
	}
	sort.Slice(list, func(i, j int) bool { // the largest first; among equals, the code under test's
		if list[i].count != list[j].count {
			return list[i].count > list[j].count
		}
		if a, b := list[i].tested() != "", list[j].tested() != ""; a != b {
			return a
		}
		return list[i].frames[0] < list[j].frames[0]
	})
	var b strings.Builder
	fmt.Fprintf(&b, "goroutine profile: total %s", thousands(total))
	for i, g := range list {
		if i == top {
			fmt.Fprintf(&b, "\n  ... %d more groups", len(list)-top)
			break
		}
		fmt.Fprintf(&b, "\n  %s × [%s] %s", thousands(g.count), g.state, g.describe())
	}
	return b.String()
}

// tested is the innermost frame of the code under test (package item or main), or "".
func (g *group) tested() string {
	for _, f := range g.frames {
		if strings.HasPrefix(f, "item.") || strings.HasPrefix(f, "main.") {
			return f
		}
	}
	return ""
}

func (g *group) describe() string {
	if len(g.frames) == 0 {
		return "(no stack)"
	}
	parts := []string{g.frames[0]}
	if t := g.tested(); t != "" && t != g.frames[0] {
		parts = append(parts, "in "+t)
	}
	if last := g.frames[len(g.frames)-1]; strings.HasPrefix(last, "created by ") && len(g.frames) > 1 {
		parts = append(parts, last)
	}
	return strings.Join(parts, ", ")
}

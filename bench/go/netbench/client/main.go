// The load generator of bench/compare_net: one client program drives both echo servers (Go's
// bench/go/netbench/server and gocxx's bench/net_server), so both are measured the same way.
//
//	netbench-client -addr HOST:PORT -mode echo  -conns N -size B [-warmup 1s] [-duration 3s]
//	netbench-client -addr HOST:PORT -mode churn -conns N [-size 64] [-warmup 1s] [-duration 3s]
//	netbench-client -addr HOST:PORT -mode idle  -conns N [-settle 1s] [-duration 3s]
//	  [-serverpid PID]   also measure the server from /proc/PID (CPU use, RSS)
//
// echo:  N connections, each a goroutine doing write(size bytes), io.ReadFull(size bytes) in a
//
//	loop; the echo is checked byte for byte. Rounds per second and the latency of one
//	round (p50/p99) over every round that started after the warm-up.
//
// churn: N goroutines, each looping dial, write(size), io.ReadFull(size), close; connections
//
//	per second (and the p50/p99 of one whole cycle).
//
// idle:  opens N connections (one echo round on each, so the server has set each one up),
//
//	waits -settle, then reads the server's VmRSS and its CPU time over -duration of
//	idleness; then checks that every connection still echoes (alive=N). Without
//	-serverpid it prints READY and holds the connections until stdin closes or -duration
//	passes.
//
// Prints one line: "RESULT key=value ...". errors= counts failed operations, stuck= counts
// connections whose round did not finish within -stuck after the end (a server that lost a
// connection or hung): both should be 0.
package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/bits"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// ---- latency histogram (log-linear, 64 sub-buckets per power of two: ~1.5% precision) ----

const subBits = 6
const subCount = 1 << subBits
const nBuckets = 64 * subCount

type histogram struct{ counts [nBuckets]atomic.Uint64 }

func bucketOf(v uint64) int {
	if v < subCount {
		return int(v)
	}
	e := bits.Len64(v) - subBits - 1
	return (e+1)*subCount + int(v>>uint(e)) - subCount
}

// The middle of bucket i.
func valueOf(i int) float64 {
	if i < subCount {
		return float64(i)
	}
	e := i/subCount - 1
	lo := uint64(i%subCount+subCount) << uint(e)
	return float64(lo) + float64(uint64(1)<<uint(e))/2
}

func (h *histogram) record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[bucketOf(uint64(d))].Add(1)
}

func (h *histogram) total() uint64 {
	var n uint64
	for i := range h.counts {
		n += h.counts[i].Load()
	}
	return n
}

// The q-quantile in microseconds.
func (h *histogram) quantileUs(q float64) float64 {
	n := h.total()
	if n == 0 {
		return 0
	}
	rank := uint64(q*float64(n-1)) + 1
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			return valueOf(i) / 1e3
		}
	}
	return 0
}

// ---- the server, from /proc ----

type procSample struct {
	ticks uint64 // utime + stime, in clock ticks (USER_HZ, 100 on Linux)
	at    time.Time
}

func readProcStat(pid int) (procSample, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procSample{}, err
	}
	// The fields after "(comm)": state is field 3, utime 14, stime 15.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return procSample{}, fmt.Errorf("short /proc/%d/stat", pid)
	}
	ut, _ := strconv.ParseUint(f[11], 10, 64)
	st, _ := strconv.ParseUint(f[12], 10, 64)
	return procSample{ut + st, time.Now()}, nil
}

func cpuPct(a, b procSample) float64 {
	wall := b.at.Sub(a.at).Seconds()
	if wall <= 0 {
		return 0
	}
	return float64(b.ticks-a.ticks) / 100 / wall * 100
}

func readRSSKB(pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "VmRSS:") {
			v, _ := strconv.ParseInt(strings.Fields(sc.Text())[1], 10, 64)
			return v
		}
	}
	return -1
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func raiseNofile() {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return
	}
	want := lim
	if want.Max < 1<<20 {
		want.Max = 1 << 20
	}
	want.Cur = want.Max
	if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want) != nil {
		lim.Cur = lim.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
}

// ---- shared state ----

var (
	addr      = flag.String("addr", "", "server address (host:port)")
	mode      = flag.String("mode", "echo", "echo, churn or idle")
	conns     = flag.Int("conns", 1, "connections (echo, idle) or concurrent dialers (churn)")
	size      = flag.Int("size", 64, "message size in bytes")
	warmup    = flag.Duration("warmup", time.Second, "warm-up before measuring (echo, churn)")
	duration  = flag.Duration("duration", 3*time.Second, "measurement (echo, churn) or idle time (idle)")
	settle    = flag.Duration("settle", time.Second, "idle: wait after connecting, before measuring")
	stuckWait = flag.Duration("stuck", 5*time.Second, "how long to wait for rounds in flight at the end")
	serverPid = flag.Int("serverpid", 0, "the server's pid, to report its CPU use and RSS")
	srcIPs    = flag.Int("srcips", 32, "churn: source addresses 127.0.0.1..127.0.0.N to dial from (1: let the kernel pick)")

	phase    atomic.Int32 // 0 warm-up, 1 measuring, 2 stop
	hist     histogram
	nErrors  atomic.Int64
	nCorrupt atomic.Int64
	lastErr  atomic.Value // string
)

func noteErr(what string, err error) {
	if nErrors.Add(1) <= 3 {
		fmt.Fprintf(os.Stderr, "client: %s: %v\n", what, err)
	}
	lastErr.Store(fmt.Sprintf("%s: %v", what, err))
}

func dialTCP() (net.Conn, error) { return net.DialTimeout("tcp", *addr, 10*time.Second) }

// Churn's dialers: dialer i binds source address 127.0.0.(1 + i % -srcips), with the port left
// to connect() (IP_BIND_ADDRESS_NO_PORT). The client closes first, so each connection leaves a
// TIME_WAIT socket on the client's side; Linux lets connect() reuse one only after a second
// (net.ipv4.tcp_tw_reuse) and draws connect()'s ports from half of ip_local_port_range, which
// caps dialing from one source address at about 14,000 connections per second with the
// default range: more source addresses lift that cap above what the servers can do.
func churnDialer(i int) *net.Dialer {
	d := &net.Dialer{Timeout: 10 * time.Second}
	if *srcIPs <= 1 {
		return d
	}
	d.LocalAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(1+i%*srcIPs))}
	d.Control = func(network, address string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			const ipBindAddressNoPort = 24 // IP_BIND_ADDRESS_NO_PORT, Linux 4.2
			serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, ipBindAddressNoPort, 1)
		})
		if err != nil {
			return err
		}
		return serr
	}
	return d
}

// One round on c: write msg, read len(msg) bytes into rbuf, compare.
func round(c net.Conn, msg, rbuf []byte) error {
	if _, err := c.Write(msg); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if _, err := io.ReadFull(c, rbuf); err != nil {
		return fmt.Errorf("read: %w", err)
	}
	if !bytes.Equal(msg, rbuf) {
		nCorrupt.Add(1)
		return errors.New("echo differs from what was sent")
	}
	return nil
}

func fill(msg []byte, seed uint64) {
	for i := range msg {
		msg[i] = byte(seed + uint64(i)*7)
	}
	if len(msg) >= 8 {
		binary.LittleEndian.PutUint64(msg, seed)
	}
}

// Runs the timed phases: warm-up, measurement, stop. Returns the measured wall time and the
// server's and client's CPU use over it, and how many workers were still busy after -stuck.
func timed(wg *sync.WaitGroup, busy *atomic.Int64) (time.Duration, float64, float64, int64) {
	time.Sleep(*warmup)
	var s0 procSample
	if *serverPid > 0 {
		s0, _ = readProcStat(*serverPid)
	}
	c0 := selfCPU()
	t0 := time.Now()
	phase.Store(1)
	time.Sleep(*duration)
	phase.Store(2)
	elapsed := time.Since(t0)
	c1 := selfCPU()
	srvPct := -1.0
	if *serverPid > 0 {
		if s1, err := readProcStat(*serverPid); err == nil {
			srvPct = cpuPct(s0, s1)
		}
	}
	cliPct := float64(c1-c0) / float64(elapsed) * 100
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return elapsed, srvPct, cliPct, 0
	case <-time.After(*stuckWait):
		return elapsed, srvPct, cliPct, busy.Load()
	}
}

func rssField() string {
	if *serverPid > 0 {
		return fmt.Sprintf(" server_rss_kb=%d", readRSSKB(*serverPid))
	}
	return ""
}

func runEcho() {
	cs := make([]net.Conn, *conns)
	for i := range cs {
		c, err := dialTCP()
		if err != nil {
			fmt.Fprintf(os.Stderr, "client: dial %d of %d: %v\n", i+1, *conns, err)
			os.Exit(1)
		}
		cs[i] = c
	}
	var wg sync.WaitGroup
	var busy atomic.Int64
	var rounds atomic.Int64 // measured rounds (also in hist)
	for i, c := range cs {
		wg.Add(1)
		busy.Add(1)
		go func(id int, c net.Conn) {
			defer wg.Done()
			defer busy.Add(-1)
			msg, rbuf := make([]byte, *size), make([]byte, *size)
			fill(msg, uint64(id))
			for seq := uint64(id) << 40; ; seq++ {
				p := phase.Load()
				if p == 2 {
					return
				}
				fill(msg[:min(len(msg), 8)], seq)
				t := time.Now()
				if err := round(c, msg, rbuf); err != nil {
					noteErr(fmt.Sprintf("conn %d", id), err)
					return
				}
				if p == 1 {
					hist.record(time.Since(t))
					rounds.Add(1)
				}
			}
		}(i, c)
	}
	elapsed, srv, cli, stuck := timed(&wg, &busy)
	n := rounds.Load()
	fmt.Printf("RESULT mode=echo conns=%d size=%d rounds=%d rounds_per_sec=%.0f p50_us=%.1f p90_us=%.1f p99_us=%.1f p999_us=%.1f"+
		" server_cpu_pct=%.0f client_cpu_pct=%.0f errors=%d corrupt=%d stuck=%d%s\n",
		*conns, *size, n, float64(n)/elapsed.Seconds(), hist.quantileUs(0.50), hist.quantileUs(0.90), hist.quantileUs(0.99), hist.quantileUs(0.999),
		srv, cli, nErrors.Load(), nCorrupt.Load(), stuck, rssField())
}

func runChurn() {
	var wg sync.WaitGroup
	var busy atomic.Int64
	var cycles atomic.Int64
	for i := 0; i < *conns; i++ {
		wg.Add(1)
		busy.Add(1)
		go func(id int) {
			defer wg.Done()
			defer busy.Add(-1)
			msg, rbuf := make([]byte, *size), make([]byte, *size)
			fill(msg, uint64(id))
			dialer := churnDialer(id)
			for {
				p := phase.Load()
				if p == 2 {
					return
				}
				t := time.Now()
				c, err := dialer.Dial("tcp", *addr)
				if err != nil {
					noteErr("dial", err)
					time.Sleep(time.Millisecond)
					continue
				}
				c.SetDeadline(t.Add(10 * time.Second))
				err = round(c, msg, rbuf)
				c.Close()
				if err != nil {
					noteErr("churn", err)
					continue
				}
				if p == 1 {
					hist.record(time.Since(t))
					cycles.Add(1)
				}
			}
		}(i)
	}
	elapsed, srv, cli, stuck := timed(&wg, &busy)
	n := cycles.Load()
	fmt.Printf("RESULT mode=churn conns=%d size=%d cycles=%d conns_per_sec=%.0f p50_us=%.1f p90_us=%.1f p99_us=%.1f p999_us=%.1f"+
		" server_cpu_pct=%.0f client_cpu_pct=%.0f errors=%d corrupt=%d stuck=%d%s\n",
		*conns, *size, n, float64(n)/elapsed.Seconds(), hist.quantileUs(0.50), hist.quantileUs(0.90), hist.quantileUs(0.99), hist.quantileUs(0.999),
		srv, cli, nErrors.Load(), nCorrupt.Load(), stuck, rssField())
}

// Runs f(i) for i in [0, n) on `workers` goroutines.
func parallel(n, workers int, f func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				f(i)
			}
		}()
	}
	wg.Wait()
}

func runIdle() {
	cs := make([]net.Conn, *conns)
	var failed atomic.Int64
	t0 := time.Now()
	parallel(*conns, 64, func(i int) {
		c, err := dialTCP()
		if err != nil {
			failed.Add(1)
			noteErr(fmt.Sprintf("dial %d", i), err)
			return
		}
		cs[i] = c
		msg, rbuf := make([]byte, *size), make([]byte, *size)
		fill(msg, uint64(i))
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if err := round(c, msg, rbuf); err != nil {
			failed.Add(1)
			noteErr(fmt.Sprintf("first round on conn %d", i), err)
		}
		c.SetDeadline(time.Time{})
	})
	connectSecs := time.Since(t0).Seconds()
	if *serverPid <= 0 {
		fmt.Println("READY")
		done := make(chan struct{})
		go func() { io.Copy(io.Discard, os.Stdin); close(done) }()
		select {
		case <-done:
		case <-time.After(*duration):
		}
		return
	}
	time.Sleep(*settle)
	rss := readRSSKB(*serverPid)
	s0, err0 := readProcStat(*serverPid)
	time.Sleep(*duration)
	s1, err1 := readProcStat(*serverPid)
	pct := -1.0
	if err0 == nil && err1 == nil {
		pct = cpuPct(s0, s1)
	}
	// Still there? One more round on every connection.
	var alive atomic.Int64
	parallel(*conns, 64, func(i int) {
		c := cs[i]
		if c == nil {
			return
		}
		msg, rbuf := make([]byte, *size), make([]byte, *size)
		fill(msg, uint64(i)+1)
		c.SetDeadline(time.Now().Add(*stuckWait))
		if err := round(c, msg, rbuf); err != nil {
			noteErr(fmt.Sprintf("round after idling on conn %d", i), err)
			return
		}
		alive.Add(1)
	})
	fmt.Printf("RESULT mode=idle conns=%d connect_sec=%.2f server_rss_kb=%d server_idle_cpu_pct=%.2f"+
		" server_idle_cpu_ticks=%d idle_sec=%.1f alive=%d errors=%d corrupt=%d\n",
		*conns, connectSecs, rss, pct, s1.ticks-s0.ticks, s1.at.Sub(s0.at).Seconds(), alive.Load(),
		nErrors.Load(), nCorrupt.Load())
}

func min(a, b int) int {
	if a < b {
		return a
	}
	return b
}

func main() {
	flag.Parse()
	if *addr == "" {
		fmt.Fprintln(os.Stderr, "client: -addr is required")
		os.Exit(2)
	}
	raiseNofile()
	switch *mode {
	case "echo":
		runEcho()
	case "churn":
		runChurn()
	case "idle":
		runIdle()
	default:
		fmt.Fprintf(os.Stderr, "client: unknown -mode %q\n", *mode)
		os.Exit(2)
	}
	if v, ok := lastErr.Load().(string); ok {
		fmt.Fprintf(os.Stderr, "client: last error: %s\n", v)
	}
}

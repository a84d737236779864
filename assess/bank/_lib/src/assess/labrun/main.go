// Command labrun runs one pressure-mode lab inside the grading sandbox (assess/engine/lab.cpp
// builds it and the candidate's service there): it starts the service on a free loopback port,
// waits until it answers, runs gocxx-pressure against it (the fault-injecting proxy, the
// open-loop load, goroutine sampling, leak analysis and trace report into -report), reads the
// service's /lab/facts, then checks graceful shutdown: requests in flight on /lab/slow, SIGTERM,
// every one must finish and the service exit 0 within -shutdown-bound. It prints one JSON object
// (Result) on stdout; the grader judges it against the lab's bounds.
//
// Everything it starts runs in the same sandbox (network namespace, limits), so the proxy and
// the load reach the service over the sandbox's own loopback.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

type Startup struct {
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
	Ms    int64  `json:"ms"`
}

type Shutdown struct {
	Ran      bool     `json:"ran"`
	InFlight int      `json:"in_flight"` // /lab/slow requests the service held when SIGTERM was sent
	Requests int      `json:"requests"`
	OK       int      `json:"ok"`
	Errors   []string `json:"errors"`
	Exit     string   `json:"exit"` // "exited with status 0", "killed by signal terminated", "still running after 10s: killed"
	ExitCode int      `json:"exit_code"`
	Ms       int64    `json:"ms"` // SIGTERM to exit
}

type Result struct {
	Startup      Startup         `json:"startup"`
	LoadStartMs  int64           `json:"load_start_ms"` // after the service started (gctrace's clock)
	PressureExit int             `json:"pressure_exit"` // -1: killed by a signal, -2: did not start
	Facts        json.RawMessage `json:"facts,omitempty"`
	FactsError   string          `json:"facts_error,omitempty"`
	Shutdown     Shutdown        `json:"shutdown"`
	ExitedEarly  string          `json:"exited_early,omitempty"` // the service died before the shutdown check
}

type envFlags []string

func (e *envFlags) String() string     { return strings.Join(*e, ",") }
func (e *envFlags) Set(v string) error { *e = append(*e, v); return nil }

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func describe(st *os.ProcessState) (string, int) {
	ws, ok := st.Sys().(syscall.WaitStatus)
	if ok && ws.Signaled() {
		return "killed by signal " + ws.Signal().String(), -1
	}
	return fmt.Sprintf("exited with status %d", st.ExitCode()), st.ExitCode()
}

func main() {
	service := flag.String("service", "./service", "the service binary")
	pressure := flag.String("pressure", "gocxx-pressure", "the gocxx-pressure binary")
	report := flag.String("report", "report", "gocxx-pressure's report directory")
	log := flag.String("log", "service.log", "the service's stdout and stderr")
	path := flag.String("path", "/", "the URL path the load requests")
	var pressureArgs envFlags
	flag.Var(&pressureArgs, "P", "a gocxx-pressure flag (repeatable)")
	var env envFlags
	flag.Var(&env, "env", "NAME=value for the service (repeatable)")
	startupBound := flag.Duration("startup-bound", 10*time.Second, "how long the service may take to answer")
	shutdownRequests := flag.Int("shutdown-requests", 4, "slow requests in flight at SIGTERM; 0: no shutdown check")
	shutdownSlow := flag.Duration("shutdown-slow", 2*time.Second, "how long each of them takes")
	shutdownBound := flag.Duration("shutdown-bound", 10*time.Second, "SIGTERM to exit, at most")
	flag.Parse()

	var res Result
	port, err := freePort()
	if err != nil {
		res.Startup.Error = "no free port: " + err.Error()
		emit(res)
		return
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	logf, err := os.Create(*log)
	if err != nil {
		res.Startup.Error = err.Error()
		emit(res)
		return
	}
	cmd := exec.Command(*service, fmt.Sprintf("127.0.0.1:%d", port))
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), env...)
	started := time.Now()
	if err := cmd.Start(); err != nil {
		res.Startup.Error = "cannot start the service: " + err.Error()
		emit(res)
		return
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	defer func() { // never leave it behind, whatever happened
		cmd.Process.Kill()
		<-exited
	}()
	client := &http.Client{Timeout: 5 * time.Second}

	res.Startup = waitReady(client, base, exited, cmd, *startupBound)
	res.Startup.Ms = time.Since(started).Milliseconds()
	if !res.Startup.OK {
		emit(res)
		return
	}

	res.LoadStartMs = time.Since(started).Milliseconds()
	args := append([]string{"--target", base + *path, "--report", *report}, pressureArgs...)
	pc := exec.Command(*pressure, args...)
	pc.Stdout, pc.Stderr = os.Stderr, os.Stderr
	if err := pc.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			res.PressureExit = ee.ExitCode()
		} else { // it did not start (-1 is a signal's: the service may kill it)
			res.PressureExit = -2
			fmt.Fprintln(os.Stderr, "labrun: gocxx-pressure:", err)
		}
	}

	select {
	case <-exited:
		res.ExitedEarly, _ = describe(cmd.ProcessState)
		emit(res)
		return
	default:
	}
	if body, err := get(client, base+"/lab/facts"); err != nil {
		res.FactsError = err.Error()
	} else if !json.Valid(body) {
		res.FactsError = "/lab/facts did not answer JSON"
	} else {
		res.Facts = body
	}
	if *shutdownRequests > 0 {
		res.Shutdown = shutdown(client, base, cmd, exited, *shutdownRequests, *shutdownSlow, *shutdownBound)
	}
	emit(res)
}

func get(client *http.Client, url string) ([]byte, error) {
	resp, err := client.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("%s: %s", url, resp.Status)
	}
	return body, err
}

func waitReady(client *http.Client, base string, exited chan struct{}, cmd *exec.Cmd, bound time.Duration) Startup {
	deadline := time.Now().Add(bound)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			how, _ := describe(cmd.ProcessState)
			return Startup{Error: "the service " + how + " before it answered (see its log)"}
		default:
		}
		if _, last = get(client, base+"/debug/pprof/goroutine?debug=1"); last == nil {
			return Startup{OK: true}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return Startup{Error: fmt.Sprintf("the service did not answer within %v: %v", bound, last)}
}

// shutdown: n requests to /lab/slow, SIGTERM once the service holds them all (or after a second),
// then every request must end 200 and the service exit 0 within bound.
func shutdown(client *http.Client, base string, cmd *exec.Cmd, exited chan struct{}, n int, slow, bound time.Duration) Shutdown {
	s := Shutdown{Ran: true, Requests: n, Errors: []string{}}
	c := &http.Client{Timeout: slow + bound}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body, err := get(c, fmt.Sprintf("%s/lab/slow?ms=%d", base, slow.Milliseconds()))
			mu.Lock()
			defer mu.Unlock()
			if err == nil && string(body) == "done\n" {
				s.OK++
			} else if err != nil {
				s.Errors = append(s.Errors, err.Error())
			} else {
				s.Errors = append(s.Errors, fmt.Sprintf("the response was cut short: %q", body))
			}
		}()
	}
	// Wait until the service holds them all (its facts say so): a request not yet accepted when
	// the listener closes is refused, which a right service cannot help. At most 3/4 of `slow`.
	until := time.Now().Add(slow * 3 / 4)
	for time.Now().Before(until) {
		var f struct {
			Slow int `json:"slow_in_flight"`
		}
		if body, err := get(client, base+"/lab/facts"); err == nil && json.Unmarshal(body, &f) == nil && f.Slow >= n {
			s.InFlight = f.Slow
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	t0 := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	select {
	case <-exited:
		s.Ms = time.Since(t0).Milliseconds()
		s.Exit, s.ExitCode = describe(cmd.ProcessState)
	case <-ctx.Done():
		s.Ms = time.Since(t0).Milliseconds()
		s.Exit, s.ExitCode = fmt.Sprintf("still running %v after SIGTERM: killed", bound), -1
		cmd.Process.Kill()
		<-exited
	}
	wg.Wait()
	return s
}

func emit(r Result) {
	out, _ := json.Marshal(r)
	fmt.Println(string(out))
}

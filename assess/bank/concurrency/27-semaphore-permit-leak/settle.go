package main

import (
	"bytes"
	"runtime"
	"time"
)

// settle waits until every goroutine but the caller has exited or blocked, so the dump the
// program prints next is the same on every run.
func settle() {
	buf := make([]byte, 1<<20)
	for i := 0; i < 5000; i++ {
		n := runtime.Stack(buf, true)
		if !busy(buf[:n]) {
			return
		}
		time.Sleep(time.Millisecond)
	}
	panic("settle: goroutines kept running")
}

// busy reports whether a goroutine other than the first (the caller) is running or runnable.
func busy(dump []byte) bool {
	blocks := bytes.Split(dump, []byte("\n\n"))
	for _, b := range blocks[1:] {
		header := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			header = b[:i]
		}
		for _, s := range []string{"[running", "[runnable", "[syscall"} {
			if bytes.Contains(header, []byte(s)) {
				return true
			}
		}
	}
	return false
}

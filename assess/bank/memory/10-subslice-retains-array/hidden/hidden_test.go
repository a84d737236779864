package item

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

const msgSize = 1 << 20

func message(i int, freed *int32) []byte {
	b := make([]byte, msgSize)
	copy(b, fmt.Sprintf("HEADER-%09d", i))
	if freed != nil {
		runtime.SetFinalizer(&b[0], func(*byte) { atomic.AddInt32(freed, 1) })
	}
	return b
}

// Keeping a header must not keep its message alive.
func TestHeaderReleasesMessage(t *testing.T) {
	const n = 8
	var freed int32
	headers := make([][]byte, n)
	for i := range headers {
		i := i
		headers[i] = Header(func() []byte { return message(i, &freed) })
	}
	deadline := time.Now().Add(3 * time.Second)
	for atomic.LoadInt32(&freed) < n && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if got := atomic.LoadInt32(&freed); got < n {
		t.Fatalf("%d of %d messages were freed while their headers were kept", got, n)
	}
	for i, h := range headers {
		if want := fmt.Sprintf("HEADER-%09d", i); string(h) != want {
			t.Fatalf("header %d = %q, want %q", i, h, want)
		}
	}
}

// The memory held by kept headers is about the size of the headers.
func TestHeadersAreSmall(t *testing.T) {
	const n = 64
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	headers := make([][]byte, n)
	for i := range headers {
		i := i
		headers[i] = Header(func() []byte { return message(i, nil) })
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	runtime.KeepAlive(headers)
	if grown > 8<<20 {
		t.Fatalf("keeping %d headers of %d bytes holds %d MB of heap", n, HeaderSize, grown>>20)
	}
}

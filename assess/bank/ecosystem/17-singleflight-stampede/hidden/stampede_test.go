package item

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestHotKeyLoadsOnce(t *testing.T) {
	var loads int32
	release := make(chan struct{})
	c := New(func(ctx context.Context, key string) (string, error) {
		atomic.AddInt32(&loads, 1)
		<-release // the backend is slow
		return "v", nil
	})
	var ready, done sync.WaitGroup
	errs := make(chan error, 20)
	for i := 0; i < 20; i++ {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			ready.Done()
			if v, err := c.Get(context.Background(), "hot"); err != nil || v != "v" {
				errs <- errors.New("a caller got " + v)
			}
		}()
	}
	ready.Wait()
	time.Sleep(50 * time.Millisecond) // let every caller reach the cache
	close(release)
	done.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// A caller that missed the cache just as the first load finished may load once more.
	if n := atomic.LoadInt32(&loads); n > 2 {
		t.Fatalf("%d backend loads for one hot key, want 1 (cache stampede)", n)
	}
}

func TestKeysLoadIndependently(t *testing.T) {
	// Loads of "a" and "b" wait for each other: they can only finish if both are in flight
	// at the same time.
	started := map[string]chan struct{}{"a": make(chan struct{}), "b": make(chan struct{})}
	other := map[string]string{"a": "b", "b": "a"}
	c := New(func(ctx context.Context, key string) (string, error) {
		close(started[key])
		select {
		case <-started[other[key]]:
			return "value of " + key, nil
		case <-time.After(2 * time.Second):
			return "", errors.New("load of " + key + " waited 2 s for the other key's load: loads are serialized or merged")
		}
	})
	var wg sync.WaitGroup
	got := make([]string, 2)
	errs := make([]error, 2)
	for i, k := range []string{"a", "b"} {
		i, k := i, k
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = c.Get(context.Background(), k)
		}()
	}
	wg.Wait()
	for i, k := range []string{"a", "b"} {
		if errs[i] != nil || got[i] != "value of "+k {
			t.Fatalf("Get(%q) = %q, %v", k, got[i], errs[i])
		}
	}
}

func TestErrorsNotCached(t *testing.T) {
	fail := true
	c := New(func(ctx context.Context, key string) (string, error) {
		if fail {
			fail = false
			return "", errors.New("backend down")
		}
		return "v", nil
	})
	if _, err := c.Get(context.Background(), "k"); err == nil {
		t.Fatal("want the backend error")
	}
	if v, err := c.Get(context.Background(), "k"); err != nil || v != "v" {
		t.Fatalf("retry: %q, %v", v, err)
	}
}

// Go side of the "million QPS" map comparison of the article this project started from
// (bench/compare_maps; the C++ twin is the mqps/churn part of bench/map_bench.cpp -- keep the
// two in step).
//
//	maps <workload> [target-ms]      workloads: mqps99 mqps90 mqps50 churn90
//
// prints "<workload>/<map> ops/s <value>" lines for Go's three maps: sync.Map, a map guarded by
// a sync.RWMutex, and the article's sharded map (32 shards, FNV-1a, one RWMutex per padded shard).
//
// 100,000 int keys, all present, uniform random keys; the given percentage of loads, the rest
// stores (updates). churn90: 90% loads, the rest half deletes and half stores of random keys.
// The map is primed before timing (sync.Map: a Range, which promotes its dirty map; gocxx's
// Map is primed the same way). One worker goroutine per P (testing.B.RunParallel's scheme: iterations handed out in grains
// from a shared counter).
package main

import (
	"fmt"
	"gocxxbench/sizing"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// pb: testing.PB's grain scheme.
type pb struct {
	next  *int64
	n     int64
	grain int64
	cache int64
}

func (p *pb) Next() bool {
	if p.cache > 0 {
		p.cache--
		return true
	}
	start := atomic.AddInt64(p.next, p.grain) - p.grain
	if start >= p.n {
		return false
	}
	c := p.grain
	if p.n-start < c {
		c = p.n - start
	}
	p.cache = c - 1
	return true
}

func runParallel(n int, body func(id int, p *pb)) time.Duration {
	workers := runtime.GOMAXPROCS(0)
	grain := int64(n) / (int64(workers) * 100)
	if grain < 1 {
		grain = 1
	}
	if grain > 10000 {
		grain = 10000
	}
	var next int64
	var wg sync.WaitGroup
	wg.Add(workers)
	start := time.Now()
	for id := 0; id < workers; id++ {
		go func(id int) {
			p := &pb{next: &next, n: int64(n), grain: grain}
			body(id, p)
			wg.Done()
		}(id)
	}
	wg.Wait()
	return time.Since(start)
}

// ---- the three maps ------------------------------------------------------------------------

type qpsMap interface {
	Load(k int) (int, bool)
	Store(k, v int)
	Delete(k int)
	Prime() // steady state before timing
}

type syncMap struct{ m sync.Map }

func (s *syncMap) Load(k int) (int, bool) {
	v, ok := s.m.Load(k)
	if !ok {
		return 0, false
	}
	return v.(int), true
}
func (s *syncMap) Store(k, v int) { s.m.Store(k, v) }
func (s *syncMap) Delete(k int)   { s.m.Delete(k) }
func (s *syncMap) Prime()         { s.m.Range(func(_, _ any) bool { return true }) } // promotes dirty

type rwMutexMap struct {
	mu sync.RWMutex
	m  map[int]int
}

func newRWMutexMap() *rwMutexMap { return &rwMutexMap{m: make(map[int]int)} }
func (r *rwMutexMap) Load(k int) (int, bool) {
	r.mu.RLock()
	v, ok := r.m[k]
	r.mu.RUnlock()
	return v, ok
}
func (r *rwMutexMap) Store(k, v int) {
	r.mu.Lock()
	r.m[k] = v
	r.mu.Unlock()
}
func (r *rwMutexMap) Prime() {}
func (r *rwMutexMap) Delete(k int) {
	r.mu.Lock()
	delete(r.m, k)
	r.mu.Unlock()
}

const shards = 32

type shard struct {
	mu sync.RWMutex
	m  map[int]int
	_  [64]byte // keep neighbouring shards' locks on different cache lines
}

type shardedMap struct{ s [shards]shard }

func newShardedMap() *shardedMap {
	m := &shardedMap{}
	for i := range m.s {
		m.s[i].m = make(map[int]int)
	}
	return m
}

// fnv32a over the key's 8 bytes (little-endian), as gocxx::sync::ShardedMap does for int64.
func fnv32a(k int) uint32 {
	h := uint32(2166136261)
	u := uint64(k)
	for i := 0; i < 8; i++ {
		h ^= uint32(u & 0xff)
		h *= 16777619
		u >>= 8
	}
	return h
}

func (s *shardedMap) shard(k int) *shard { return &s.s[fnv32a(k)%shards] }
func (s *shardedMap) Load(k int) (int, bool) {
	sh := s.shard(k)
	sh.mu.RLock()
	v, ok := sh.m[k]
	sh.mu.RUnlock()
	return v, ok
}
func (s *shardedMap) Store(k, v int) {
	sh := s.shard(k)
	sh.mu.Lock()
	sh.m[k] = v
	sh.mu.Unlock()
}
func (s *shardedMap) Prime() {}
func (s *shardedMap) Delete(k int) {
	sh := s.shard(k)
	sh.mu.Lock()
	delete(sh.m, k)
	sh.mu.Unlock()
}

// ---- the workload --------------------------------------------------------------------------

const qpsKeys = 100000

// xorshift64*, the same generator as bench/map_bench.cpp.
type rng struct{ s uint64 }

func (r *rng) next() uint64 {
	r.s ^= r.s >> 12
	r.s ^= r.s << 25
	r.s ^= r.s >> 27
	return r.s * 2685821657736338717
}

var sink int64

func mqps(newMap func() qpsMap, readPct int, churn bool) func(n int) time.Duration {
	return func(n int) time.Duration {
		m := newMap()
		for k := 0; k < qpsKeys; k++ {
			if !churn || k%2 == 0 {
				m.Store(k, k)
			}
		}
		m.Prime()
		return runParallel(n, func(id int, p *pb) {
			r := rng{s: 0x9E3779B97F4A7C15 * uint64(id+1)}
			var local int
			for p.Next() {
				x := r.next()
				k := int(((x >> 32) * qpsKeys) >> 32)
				pct := int(((x & 0xffff) * 100) >> 16)
				if pct < readPct {
					v, _ := m.Load(k)
					local += v
				} else if churn && (x>>16)&1 != 0 {
					m.Delete(k)
				} else {
					m.Store(k, int(x&0x7fffffff))
				}
			}
			atomic.AddInt64(&sink, int64(local))
		})
	}
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: maps <mqps99|mqps90|mqps50|churn90> [target-ms]")
		os.Exit(2)
	}
	if len(os.Args) > 2 {
		sizing.SetTargetFromArg(os.Args[2])
	}
	var pct int
	churn := false
	switch os.Args[1] {
	case "mqps99":
		pct = 99
	case "mqps90":
		pct = 90
	case "mqps50":
		pct = 50
	case "churn90":
		pct, churn = 90, true
	default:
		fmt.Fprintf(os.Stderr, "maps: unknown workload %q\n", os.Args[1])
		os.Exit(2)
	}
	w := os.Args[1]
	report := func(name string, ns float64) { fmt.Printf("%s/%s ops/s %.0f\n", w, name, 1e9/ns) }
	report("go_sync.Map", sizing.Measure(mqps(func() qpsMap { return &syncMap{} }, pct, churn)))
	report("go_RWMutexMap", sizing.Measure(mqps(func() qpsMap { return newRWMutexMap() }, pct, churn)))
	report("go_ShardedMap", sizing.Measure(mqps(func() qpsMap { return newShardedMap() }, pct, churn)))
}

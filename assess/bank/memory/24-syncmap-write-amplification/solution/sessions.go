package item

import "sync"

const shards = 64

type shard struct {
	mu sync.RWMutex
	m  map[uint64]string
}

// Sessions maps session ids to users. Every login stores a new session; every request looks
// one or more ids up, and most lookups miss (expired cookies, bots). Used by many goroutines.
//
// A sharded map instead of sync.Map: sync.Map suits keys written once and read many times.
// Here new keys arrive all the time and misses keep promoting its dirty map, so the first
// Store after each promotion copies the whole read map (write amplification). Shards keep
// lock contention low without any copying.
type Sessions struct {
	once   sync.Once
	shards [shards]shard
}

func (s *Sessions) shard(id uint64) *shard {
	s.once.Do(func() {
		for i := range s.shards {
			s.shards[i].m = make(map[uint64]string)
		}
	})
	return &s.shards[(id*0x9E3779B97F4A7C15)>>58] // Fibonacci hashing: top 6 bits
}

func (s *Sessions) Put(id uint64, user string) {
	sh := s.shard(id)
	sh.mu.Lock()
	sh.m[id] = user
	sh.mu.Unlock()
}

func (s *Sessions) Get(id uint64) (string, bool) {
	sh := s.shard(id)
	sh.mu.RLock()
	u, ok := sh.m[id]
	sh.mu.RUnlock()
	return u, ok
}

func (s *Sessions) Delete(id uint64) {
	sh := s.shard(id)
	sh.mu.Lock()
	delete(sh.m, id)
	sh.mu.Unlock()
}

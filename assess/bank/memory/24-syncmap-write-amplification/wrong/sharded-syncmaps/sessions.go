package item

import "sync"

// Sessions maps session ids to users. Every login stores a new session; every request looks
// one or more ids up, and most lookups miss (expired cookies, bots). Used by many goroutines.
type Sessions struct {
	shards [16]sync.Map // smaller sync.Maps: less to copy (but copied just as often)
}

func (s *Sessions) shard(id uint64) *sync.Map { return &s.shards[id%16] }

func (s *Sessions) Put(id uint64, user string) { s.shard(id).Store(id, user) }

func (s *Sessions) Get(id uint64) (string, bool) {
	v, ok := s.shard(id).Load(id)
	if !ok {
		return "", false
	}
	return v.(string), true
}

func (s *Sessions) Delete(id uint64) { s.shard(id).Delete(id) }

package item

import "sync"

// Sessions maps session ids to users. Every login stores a new session; every request looks
// one or more ids up, and most lookups miss (expired cookies, bots). Used by many goroutines.
type Sessions struct {
	m sync.Map // map[uint64]string
}

func (s *Sessions) Put(id uint64, user string) { s.m.Store(id, user) }

func (s *Sessions) Get(id uint64) (string, bool) {
	v, ok := s.m.Load(id)
	if !ok {
		return "", false
	}
	return v.(string), true
}

func (s *Sessions) Delete(id uint64) { s.m.Delete(id) }

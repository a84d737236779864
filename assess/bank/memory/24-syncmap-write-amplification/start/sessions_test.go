package item

import "testing"

func TestSessions(t *testing.T) {
	var s Sessions
	s.Put(1, "ann")
	s.Put(2, "bob")
	if u, ok := s.Get(1); !ok || u != "ann" {
		t.Fatalf("Get(1) = %q, %v", u, ok)
	}
	s.Delete(1)
	if _, ok := s.Get(1); ok {
		t.Fatal("Get(1) found a deleted session")
	}
	if _, ok := s.Get(3); ok {
		t.Fatal("Get(3) found a session that was never stored")
	}
}

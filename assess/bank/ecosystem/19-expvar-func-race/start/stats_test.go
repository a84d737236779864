package item

import (
	"encoding/json"
	"expvar"
	"net/http/httptest"
	"testing"
)

// routes reads /debug/vars and returns the counts published under name.
func routes(t *testing.T, name string) map[string]int {
	t.Helper()
	rec := httptest.NewRecorder()
	expvar.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/debug/vars", nil))
	var vars map[string]json.RawMessage
	if err := json.Unmarshal(rec.Body.Bytes(), &vars); err != nil {
		t.Fatal(err)
	}
	var m map[string]int
	if err := json.Unmarshal(vars[name], &m); err != nil {
		t.Fatalf("%s: %v in %s", name, err, vars[name])
	}
	return m
}

func TestPublished(t *testing.T) {
	s := NewStats("routes_visible")
	s.Inc("/orders")
	s.Inc("/orders")
	s.Inc("/login")
	if m := routes(t, "routes_visible"); m["/orders"] != 2 || m["/login"] != 1 {
		t.Fatalf("published %v", m)
	}
}

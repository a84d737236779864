package item

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
)

func get(t *testing.T, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	NewDebugMux().ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	return rec.Code, rec.Body.String()
}

func TestGoroutineDump(t *testing.T) {
	code, body := get(t, "/debug/pprof/goroutine?debug=2")
	if code != 200 || !strings.Contains(body, "goroutine ") || !strings.Contains(body, "[running]") {
		t.Fatalf("/debug/pprof/goroutine?debug=2: %d %.200q", code, body)
	}
	if code, _ := get(t, "/debug/pprof/heap?debug=1"); code != 200 {
		t.Fatalf("/debug/pprof/heap: %d", code)
	}
}

func TestNamedHandlers(t *testing.T) {
	if code, body := get(t, "/debug/pprof/cmdline"); code != 200 || !strings.Contains(body, ".test") {
		t.Fatalf("/debug/pprof/cmdline: %d %q", code, body)
	}
	if code, _ := get(t, "/debug/pprof/symbol"); code != 200 {
		t.Fatalf("/debug/pprof/symbol: %d", code)
	}
	if code, body := get(t, "/debug/pprof/trace?seconds=0.01"); code != 200 || len(body) == 0 {
		t.Fatalf("/debug/pprof/trace: %d", code)
	}
}

func TestExpvar(t *testing.T) {
	code, body := get(t, "/debug/vars")
	var vars map[string]json.RawMessage
	if code != 200 || json.Unmarshal([]byte(body), &vars) != nil || vars["memstats"] == nil {
		t.Fatalf("/debug/vars: %d %.200q", code, body)
	}
}

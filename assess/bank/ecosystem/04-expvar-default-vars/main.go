package main

import (
	"encoding/json"
	"expvar"
	"fmt"
	"net/http/httptest"
	"sort"
	"strings"
)

var requests = expvar.NewInt("requests")

func main() {
	requests.Add(3)

	rec := httptest.NewRecorder()
	expvar.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/debug/vars", nil))

	var vars map[string]json.RawMessage
	if err := json.Unmarshal(rec.Body.Bytes(), &vars); err != nil {
		panic(err)
	}
	var names []string
	for name := range vars {
		names = append(names, name)
	}
	sort.Strings(names)
	fmt.Println(strings.Join(names, " "), string(vars["requests"]))
}

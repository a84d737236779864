// Package item ingests JSON events uploaded over HTTP.
package item

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
)

// Event is what the service decodes of an upload; the rest (a blob of several KB) it skips.
type Event struct {
	ID   int    `json:"id"`
	Kind string `json:"kind"`
}

// Ingest handles POST /events with one JSON event as the body. It answers 200 with the
// event's id on a line, or 400 when the body cannot be read or is not an event.
type Ingest struct {
	mu    sync.Mutex
	kinds map[string]int // events ingested, by kind
}

// bodies recycles the buffers uploads are read into: their capacity grows to the usual upload
// size once, instead of being allocated (and grown) again for every request.
var bodies = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func (h *Ingest) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	buf := bodies.Get().(*bytes.Buffer)
	if _, err := buf.ReadFrom(r.Body); err != nil {
		bodies.Put(buf)
		http.Error(w, "cannot read the body: "+err.Error(), http.StatusBadRequest)
		return
	}
	defer func() {
		buf.Reset()
		bodies.Put(buf)
	}()
	var ev Event
	if err := json.Unmarshal(buf.Bytes(), &ev); err != nil {
		http.Error(w, "not an event: "+err.Error(), http.StatusBadRequest)
		return
	}
	h.record(ev)
	fmt.Fprintln(w, ev.ID)
}

func (h *Ingest) record(ev Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.kinds == nil {
		h.kinds = map[string]int{}
	}
	h.kinds[ev.Kind]++
}

// Count returns the number of events of kind ingested so far.
func (h *Ingest) Count(kind string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.kinds[kind]
}

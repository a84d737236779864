package main

import (
	"bytes"
	"os"
	"runtime"
	"runtime/pprof"
)

var (
	templates [][]byte          // loaded once, kept for the life of the process
	sessions  map[int]*session // one per logged-in user
)

type session struct {
	user  int
	token [48]byte
}

func loadTemplates() {
	for i := 0; i < 12; i++ {
		templates = append(templates, make([]byte, 64<<10))
	}
}

func newSession(user int) *session { return &session{user: user} }

// renderReport builds a large report in a temporary buffer and writes its length.
func renderReport(rows int) int {
	var buf bytes.Buffer
	for i := 0; i < rows; i++ {
		buf.WriteString("row of the monthly report ......................................\n")
	}
	return buf.Len()
}

func main() {
	runtime.MemProfileRate = 1 // record every allocation
	loadTemplates()
	sessions = make(map[int]*session)
	for u := 0; u < 500; u++ {
		sessions[u] = newSession(u)
	}
	renderReport(40000)

	runtime.GC() // the profile shows the heap as of the last completed GC
	runtime.GC()
	pprof.Lookup("heap").WriteTo(os.Stdout, 1)
}

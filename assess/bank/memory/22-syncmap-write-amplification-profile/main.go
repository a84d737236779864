package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
)

// sessions maps a session id to its user. Lookups are frequent and mostly miss (bots with
// expired cookies); a new session is stored for every login.
var sessions sync.Map

func login(id, user int) { sessions.Store(id, user) }

func lookup(id interface{}) bool {
	_, ok := sessions.Load(id)
	return ok
}

func main() {
	runtime.MemProfileRate = 1 // record every allocation
	for id := 0; id < 20000; id++ {
		login(id, id%500)
	}
	expired := make([]interface{}, 50) // cookies of expired sessions
	for k := range expired {
		expired[k] = -1 - k
	}
	found := 0
	for r := 0; r < 4000; r++ {
		login(20000+r, r%500) // a new session
		for _, id := range expired {
			if lookup(id) { // never found
				found++
			}
		}
	}
	fmt.Println("found:", found)
	runtime.GC()
	pprof.Lookup("allocs").WriteTo(os.Stdout, 1)
	runtime.KeepAlive(&sessions)
}

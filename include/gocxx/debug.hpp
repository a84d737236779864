// gocxx::debug — what Go's runtime/debug and runtime/pprof tell about goroutines: a dump of
// every goroutine with its stack, wait reason and creation site, as records or in Go's text
// formats, and the goroutine profile that `go tool pprof` reads.
//
// Goroutines parked in the scheduler are unwound from the registers their last switch saved,
// without stopping anyone. A goroutine running on another thread (or inside blocking()) shows
// no stack, as Go prints "goroutine running on other thread; stack unavailable".
#pragma once

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace gocxx::debug {

// One frame of a goroutine's stack. Inlined calls are frames of their own, as in Go.
struct Frame {
  std::string function;       // demangled, without the parameter list
  std::string file;           // empty if unknown
  int line = 0;
  std::uintptr_t pc = 0;      // the return address (or the PC) this frame was found at
  std::uintptr_t offset = 0;  // pc - entry of the (outermost) function, Go's "+0x.."
};

enum class GoroutineState { runnable, running, syscall, waiting };

struct Goroutine {
  std::uint64_t id = 0;
  GoroutineState state = GoroutineState::runnable;
  std::string wait_reason;  // Go's words ("chan send", "sync.WaitGroup.Wait", ...); "" unless waiting
  std::chrono::steady_clock::time_point wait_since{};  // when it parked (waiting only)
  // Running only, and only once the scheduler's monitor has seen it hold its thread for 10 ms
  // without a scheduling point (gocxx has no preemption): since when, to within 5 ms. Dumps
  // show it ("goroutine running on other thread for 120 ms ...").
  std::chrono::steady_clock::time_point running_since{};
  std::uint64_t parent_id = 0;  // the goroutine that called go(); 0 for main
  Frame created_by;             // the function that called go() and where
  std::vector<Frame> frames;    // innermost first; gocxx's own frames removed
  bool stack_available = true;  // false while running on another thread or in blocking()
  bool abandoned = false;       // left behind by a gocxx::run that has returned

  // The word Go prints in brackets: the wait reason, or "runnable"/"running"/"syscall".
  std::string status() const;
  // Whole minutes waited, as Go shows them (", 3 minutes" only from one minute on).
  std::int64_t wait_minutes(std::chrono::steady_clock::time_point now =
                                std::chrono::steady_clock::now()) const;
};

// Every goroutine that has not exited: those of the running gocxx::run (the caller first, if it
// is one), then abandoned ones of runs that have returned (a leak check after run() finds them).
std::vector<Goroutine> goroutines();

// Writes all goroutines in Go's formats:
//   level 2: Go's traceback dump (debug=2 / SIGQUIT): "goroutine 18 [chan send, 2 minutes]:",
//            frames "function(...)\n\tfile:line +0xoff", "created by F in goroutine P".
//   level 1: Go's debug=1 goroutine profile: identical stacks grouped with counts.
// Throws std::invalid_argument for any other level.
void write_goroutines(std::ostream& out, int level);
// The same for records already taken (a filtered or saved snapshot).
void write_goroutines(std::ostream& out, int level, const std::vector<Goroutine>& snapshot);

// Go's goroutine profile (pprof.Lookup("goroutine").WriteTo(w, 0)) in pprof's profile.proto
// format, gzip-compressed as Go's is unless gzip is false; `go tool pprof` reads it without the
// binary (locations are symbolized here). Sample type goroutine/count, one sample per distinct
// stack and state, with the string label "state" = Goroutine::status() ("chan send", "running",
// ...). Throws std::runtime_error if the stream or zlib fails. See docs/diagnostics.md.
void write_goroutine_profile(std::ostream& out, bool gzip = true);
void write_goroutine_profile(std::ostream& out, const std::vector<Goroutine>& snapshot,
                             bool gzip = true);

// Go's traceback text for one goroutine (header, frames, "created by"), followed by a blank line.
void write_goroutine(std::ostream& out, const Goroutine& g);

// SIGQUIT dumps every goroutine to stderr and exits with status 2, as in Go. Installed by
// gocxx::run unless the program already handles SIGQUIT or GOCXX_SIGQUIT=0; call with false to
// restore the default action.
void handle_sigquit(bool enable);

}  // namespace gocxx::debug

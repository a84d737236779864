// Goroutine snapshots inside the library: the raw fields read from each G (cheap, taken while
// goroutines run) and their conversion to debug::Goroutine records (symbolization, slow).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "gocxx/debug.hpp"
#include "runtime/goroutine.hpp"

namespace gocxx::diag {

struct RawGoroutine {
  const detail::G* g = nullptr;
  std::uint64_t id = 0;
  std::uint64_t parent_id = 0;
  std::uintptr_t create_pc = 0;
  std::uint64_t generation = 0;    // the run that owns it
  debug::GoroutineState state = debug::GoroutineState::runnable;
  detail::WaitReason wait_reason = detail::WaitReason::kZero;
  std::int64_t wait_since_ns = 0;
  std::int64_t long_run_since_ns = 0;  // running: sysmon's mark (sysmon.hpp), 0 if none
  std::vector<std::uintptr_t> pcs;  // return addresses, innermost first
  bool stack_available = false;
  bool abandoned = false;
};

// What a traceback says about who created a goroutine. Both read two numbers only, so the
// stack overflow handler (async-signal-safe) decides with them too.
//
// gocxx::run's main goroutine: like Go's, it has no "created by" to show.
inline bool is_run_main(std::uint64_t id, std::uint64_t parent_id) {
  return id == 1 && parent_id == 0;
}
// "created by F in goroutine P" names P only if a goroutine created it; parent 0 is a thread
// (a plain thread, the timer thread), and Go omits "in goroutine 0" too.
inline bool names_parent(std::uint64_t parent_id) { return parent_id != 0; }

// Every G that has not exited (the calling goroutine first), read without stopping anyone.
std::vector<RawGoroutine> snapshot_raw();
std::vector<debug::Goroutine> to_records(const std::vector<RawGoroutine>& raws);

// Go's traceback lines for frames: "function(...)\n\tfile:line +0xoff\n" each.
std::string format_frames(const std::vector<debug::Frame>& frames);
// "created by F[ in goroutine P]\n\tfile:line +0xoff\n"; "" for an empty frame.
std::string format_created_by(const debug::Frame& creator, std::uint64_t parent_id);
// Go's traceback text for one goroutine: header, frames, "created by" (no trailing blank line).
std::string format_goroutine(const debug::Goroutine& g, std::chrono::steady_clock::time_point now);

// What goroutines are grouped by: a stack (any values that identify it: PCs, or a profile's
// location ids) and a state (Goroutine::status()).
using GroupKey = std::pair<std::vector<std::uintptr_t>, std::string>;

struct GoroutineGroup {
  GroupKey key;
  std::size_t count = 0;  // goroutines in the group
  std::size_t first = 0;  // the index of its first goroutine
};

// Groups goroutines 0..n-1 by key(i), called once for each in order, as Go's debug=1 dump and
// goroutine profile do: the largest groups first, those of equal size in the order they first
// appear. The key decides what counts as one stack (debug=1's PCs, the profile's locations).
std::vector<GoroutineGroup> group_goroutines(std::size_t n,
                                             const std::function<GroupKey(std::size_t)>& key);

// Level 2: tracebacks separated by blank lines; level 1: Go's grouped debug=1 text.
void write_dump(std::ostream& out, int level, const std::vector<debug::Goroutine>& records);
void write_dump(std::ostream& out, int level, const std::vector<RawGoroutine>& raws);

}  // namespace gocxx::diag

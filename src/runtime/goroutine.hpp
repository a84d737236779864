// G: one goroutine. Gs are small, dense heap objects (the scheduler walks them in queues);
// each owns an mmap'd stack. The goroutine's body (the closure passed to go()) lives inside the
// G when it fits in 64 bytes, else at the top of the stack, so spawning from the pool allocates
// nothing. Gs are never freed: a dead G keeps its stack and
// goes to a free list for reuse (Go's gFree), which is also what lets the registry walk every
// G ever made without any reclamation scheme.
#pragma once

#include <atomic>
#include <cstdint>

#include "context.hpp"
#include "gocxx/runtime.hpp"
#include "park.hpp"
#include "stack.hpp"

namespace gocxx::detail {

struct M;
struct DeferFrame;

// Go's goroutine states (runtime2.go), same meanings. kScanBit is set on top of kWaiting while
// a diagnostic reads a parked G; ready() waits for it to clear before making the G runnable.
enum GStatus : std::uint32_t {
  kIdle = 0,      // just allocated, not yet initialized
  kRunnable = 1,  // in a run queue
  kRunning = 2,   // executing on an M
  kSyscall = 3,   // inside gocxx::blocking(), no P
  kWaiting = 4,   // parked; wait_reason says why
  kDead = 6,      // finished, on a free list
  kScanBit = 0x1000,
};
const char* status_string(std::uint32_t status);

struct alignas(16) G {
  ExecContext context;
  Stack stack;
  std::atomic<std::uint32_t> status{kIdle};
  GoroutineId id = 0;
  GoroutineId parent_id = 0;
  std::uintptr_t create_pc = 0;        // return address inside the function that called go()
  std::uintptr_t start_pc = 0;         // the body's entry (its run thunk)
  std::atomic<WaitReason> wait_reason{WaitReason::kZero};
  std::atomic<std::int64_t> wait_since_ns{0};  // monotonic ns when it parked
  Parker parker;
  // Bumped whenever the G starts running or is reused for a new goroutine; a dump's
  // optimistic read checks that it did not change (a plain store on a line prepare_to_run
  // writes anyway).
  std::atomic<std::uint32_t> resumes{0};
  M* m = nullptr;                      // while running
  // Set by sysmon when this G has held its P for 10 ms (sysmon.hpp): since when, and the run
  // it means (the value of `resumes` then).
  std::atomic<std::int64_t> long_run_since_ns{0};
  std::atomic<std::uint32_t> long_run_resumes{0};
  G* sched_next = nullptr;             // global run queue link
  void* closure = nullptr;             // the body: in inline_body, or at the stack top
  std::uintptr_t stack_start = 0;      // where the first frame goes (below a stack-held body)
  alignas(16) unsigned char inline_body[64];  // a small body lives here, not on the stack
  const ClosureOps* closure_ops = nullptr;
  std::uint64_t generation = 0;        // which gocxx::run owns it (stale wake-ups are dropped)
  DeferFrame* defer_top = nullptr;     // innermost func()/deferred-call frame (recover())
  EhState eh;                          // its caught exceptions while switched out
  // Scheduler chaos (chaos.cpp): the chaos points this goroutine has passed, and whose count it
  // is, since a G is reused (the count restarts when its run or id changes).
  std::uint64_t chaos_points = 0;
  std::uint64_t chaos_generation = 0;
  GoroutineId chaos_id = 0;
};

// The goroutine running on this thread, or nullptr on a plain thread or the scheduler stack.
// Never inlined: a goroutine can resume on another thread, and the compiler must not reuse a
// thread_local address computed before a switch.
G* current_g();
M* current_m();

std::int64_t nanotime();

}  // namespace gocxx::detail

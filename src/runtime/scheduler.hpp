// The G/M/P scheduler (Go's proc.go). See docs/design.md for the model; the lock order
// is the rank table in lockrank.hpp.
//
//   G  a goroutine                               (goroutine.hpp)
//   M  an OS thread that runs goroutines          (struct M)
//   P  a processor: the right to run goroutines,  (struct P)
//      with a local run queue; procs() of them
//
// An M needs a P to run Gs. An M without work releases its P and sleeps on a futex; readying a
// G wakes one idle M (wakep) only if there is an idle P and no M already spinning for work.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "context.hpp"
#include "goroutine.hpp"
#include "lockrank.hpp"
#include "panic.hpp"
#include "runq.hpp"

namespace gocxx::detail {

struct Runtime;

struct P {
  int id = 0;
  RunQueue runq;
  std::uint32_t schedtick = 0;   // counts goroutines run; every 61st checks the global queue
  // The goroutine running on this P, nullptr between them: what sysmon watches. Release-stored,
  // so that sysmon may read the G's atomics after loading it.
  std::atomic<G*> running{nullptr};
  P* idle_next = nullptr;        // Runtime::idle_ps
  static constexpr int kFreeMax = 64;
  G* free_gs[kFreeMax];          // dead Gs with the run's default stack size (Go's gFree)
  int free_count = 0;

  // Event counts for the metrics (stats.cpp). Only the M holding the P writes them, so an
  // increment is a relaxed load and store, with no locked instruction; readers sum them racily.
  struct Counter {
    std::atomic<std::uint64_t> n{0};
    void inc() { n.store(n.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed); }
    std::uint64_t get() const { return n.load(std::memory_order_relaxed); }
  };
  Counter parks;     // goroutines that parked here (any wait reason)
  Counter io_waits;  // of those, goroutines waiting on the network poller ("IO wait")
  Counter steals;    // times this P took goroutines from another P's run queue
};

struct M {
  Runtime* rt = nullptr;
  P* p = nullptr;
  G* curg = nullptr;
  ExecContext g0;                            // this thread's own stack
  EhState* eh_state = nullptr;               // this thread's C++ exception state
  std::thread thread;
  std::atomic<std::uint32_t> wake_word{0};   // idle sleep (futex)
  P* next_p = nullptr;                       // handed over by start_m before waking us
  bool spinning = false;                     // looking for work (counted in nmspinning)
  bool in_blocking = false;                  // inside gocxx::blocking (guarded by rt->lock)
  M* idle_next = nullptr;
  std::uint64_t rand_state = 0;
};

// What a goroutine asks its M's scheduler stack to do right after switching away.
struct SwitchRequest {
  enum Kind { kPark, kYield, kExit, kNoPAfterBlocking } kind;
  void (*unlock)(void*) = nullptr;
  void* arg = nullptr;
};

struct Runtime {
  // Owned by gocxx::run and by each M thread; the last to let go deletes it (an M stuck in a
  // blocking call at shutdown is detached and may outlive run()).
  std::atomic<int> refs{1};
  void release_ref();

  std::uint64_t generation = 0;
  int nprocs = 0;
  std::size_t stack_size = 0;
  std::vector<std::unique_ptr<P>> ps;

  RankedMutex<LockRank::kSched> lock;  // guards everything below up to the atomics
  G* global_head = nullptr;
  G* global_tail = nullptr;
  std::atomic<std::int64_t> global_size{0};
  P* idle_ps = nullptr;
  M* idle_ms = nullptr;
  std::vector<std::unique_ptr<M>> ms;
  int nmidle = 0;                 // Ms asleep in stop_m
  std::uint64_t m_wakeups = 0;    // bumped whenever start_m wakes or makes an M (checkdead)

  std::atomic<int> npidle{0};
  std::atomic<int> nmspinning{0};
  std::atomic<bool> poll_spinning{false};  // an M is in poll_briefly (at most one)
  // Set once, under `lock`, when run() ends; read under the lock or lock-free by findrunnable.
  std::atomic<bool> stopping{false};
  std::atomic<std::int64_t> live_goroutines{0};
  std::atomic<std::uint64_t> long_runs{0};  // goroutines sysmon saw run 10 ms without yielding
  std::thread sysmon;                        // sysmon.cpp
  std::atomic<std::uint32_t> sysmon_stop{0};  // 1: sysmon returns (its futex word)
  std::atomic<GoroutineId> next_goid{1};  // the main goroutine is 1, as in Go
  std::atomic<std::uint32_t> main_done{0};
};

// The generation of the running gocxx::run, or 0: Gs of other generations are abandoned.
std::uint64_t live_generation();
// The generation of the most recent gocxx::run (the live one while a run is active), read
// without a lock.
std::uint64_t latest_generation();
// The runtime of the current gocxx::run, or nullptr.
Runtime* current_runtime();

// Spawns a goroutine from a thread that is not one of the run's Ms (the timer thread) if a
// run is active; false if none is.
bool spawn_if_running(void* closure, const ClosureOps& ops);

// Makes a parked G runnable (from any thread).
void ready(G* g);
// Parks the running goroutine; unlock(arg) runs on the scheduler stack after the switch.
void gopark(G* g, WaitReason reason, void (*unlock)(void*), void* arg);
// Puts the running goroutine at the back of the run queue and runs something else.
void goyield(G* g);

// Deadlock detection (checkdead.cpp), asked by the last M to go idle with nothing queued
// (`wakeups_seen`: rt->m_wakeups when it did): fatal "all goroutines are asleep" if nothing can
// ever wake a goroutine; false if something can; true if only threads that are not gocxx's own
// keep the verdict open (the caller asks again later).
bool deadlock_undecided(Runtime* rt, std::uint64_t wakeups_seen);

// gocxx's own threads (Ms, the timer thread, diagnostics threads, the thread waiting in run()).
// Deadlock detection compares their count with the process's threads: any thread that is not
// gocxx's own could still send, so none may exist.
void count_internal_threads(int delta);

// Counts the calling thread as gocxx's own for the token's lifetime.
class InternalThread {
 public:
  InternalThread() { count_internal_threads(1); }
  ~InternalThread() { count_internal_threads(-1); }
  InternalThread(const InternalThread&) = delete;
  InternalThread& operator=(const InternalThread&) = delete;
};

// Go's newosproc failure: "runtime: failed to create new OS thread", then a fatal error. The
// runtime cannot go on without the thread it asked for (a P would be left with no M).
[[noreturn]] void thread_creation_failed(int error);

// Starts a thread of gocxx's own. It is counted from before it exists until f returns, so the
// deadlock check never sees it as a foreign thread while it starts up. (Between f returning and
// the thread disappearing it is briefly uncounted; stop_m re-checks such inconclusive counts.)
template <class F>
std::thread start_internal_thread(F&& f) {
  count_internal_threads(1);
  try {
    return std::thread([f = std::forward<F>(f)]() mutable {
      struct Uncount {
        ~Uncount() { count_internal_threads(-1); }
      } uncount;
      f();
    });
  } catch (const std::system_error& e) {
    thread_creation_failed(e.code().value());
  } catch (...) {
    count_internal_threads(-1);
    throw;
  }
}

std::uint32_t fastrand();

// fork() without exec: the child has only the thread that forked, none of gocxx's own (Ms, the
// timer thread), so a runtime that had any cannot work there. Every entry point that would
// need them checks first: one load and a predictable branch. Set by a pthread_atfork handler.
// Hidden: read directly, not through the GOT, even in a shared libgocxx.
[[gnu::visibility("hidden")]] extern std::atomic<bool> g_forked_child;
// "fatal error: gocxx: fork without exec: ..." and exit 2 (async-signal-safe).
[[noreturn]] void fatal_forked_child();
inline void check_not_forked_child() {
  if (g_forked_child.load(std::memory_order_relaxed)) [[unlikely]] fatal_forked_child();
}

}  // namespace gocxx::detail

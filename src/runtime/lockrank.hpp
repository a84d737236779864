// The runtime's lock order (Go's lockrank.go): the one table of every runtime lock, in the
// order they may be acquired, and the checker that enforces it.
//
// A thread may acquire a lock only while every lock it already holds has a lower rank (an
// earlier row below). A rank marked `multi` may be held several times at once; its locks must
// then be acquired in increasing address order (select locks its channels that way). Any other
// acquisition is a potential deadlock, and in a checking build it is a fatal error:
//
//   fatal error: lock ordering problem: acquiring <rank> while holding <rank>
//
// followed by the thread's held locks, then abort(). Checking builds are those configured with
// the CMake option GOCXX_LOCK_RANK (ON by default in Debug builds and in the asan preset, so CI
// runs the whole suite under it); elsewhere RankedMutex<R> *is* std::mutex, RankedLock<R> *is*
// Lock, and the hooks are empty inline functions: no code and no data on any path.
//
// Rules the checker relies on (docs/design.md, "Lock order", says why they hold):
//  - a lock is released on the thread that acquired it. Parking is no exception: the goroutine
//    takes the lock, and gopark's unlock callback releases it on the same M right after the
//    switch (on g0, or on the next goroutine's stack for a direct hand-off), before anything
//    else runs there. No runtime lock is otherwise held across a context switch.
//  - try_lock never waits, so it cannot deadlock by itself: a successful try_lock is not
//    checked against the held locks, but it is recorded, and later acquisitions are checked
//    against it. (Go's runtime has no try-lock; this is the usual choice of lock checkers.)
//  - release may be out of order (the matching entry is removed wherever it is).
//  - a thread that is crashing (a fatal error or an unrecovered panic: the report dumps every
//    goroutine, which takes the registry lock and g_runtime_lock, whatever the thread held
//    when it failed) stops checking; lock_rank_crashing() says so. The process is ending.
//  - the held stack is thread_local, trivially destructible and constant-initialized: safe at
//    thread exit and in signal handlers (no TLS constructor or destructor runs).
// The check functions are out of line (noinline): a goroutine can move between threads, so a
// caller must not keep the address of one thread's held stack across a switch.
//
// Locks outside this table: the diag layer's and the user-level ones (sync_map, concurrent_map,
// context, errgroup). Of the diag locks, the trace, symbolizer and watchdog locks are leaves,
// taken under runtime locks (a trace event is written with a channel lock or Runtime::lock
// held) and taking none; the crash report's lock is taken first and held until the process
// exits, while the report dumps (registry lock).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <shared_mutex>

#include <unistd.h>

#include "gocxx/detail/lock.hpp"

#ifndef GOCXX_LOCK_RANK
#define GOCXX_LOCK_RANK 0
#endif

namespace gocxx::detail {

// Acquisition order: a lock may be taken while holding only locks of earlier ranks.
enum class LockRank : std::uint8_t {
  // PollDesc::lock (netpoll.cpp): a poll descriptor's deadlines. Held while re-arming or
  // stopping its deadline timers (timer lock) and while waking its waiters' goroutines.
  kPollDesc,
  // TimerQueue::lock_ (timer.cpp): the timer heap. Held while firing: a channel timer's
  // non-blocking send (channel lock), a sleeper's ready() and an after_func's spawn (both
  // g_runtime_lock, then Runtime::lock; the spawn also the G pool, stack slab and allgs).
  kTimers,
  // ChanCore::lock (chan_core.hpp, chan.cpp, select.cpp): a channel's buffer and wait queues.
  // multi: select locks all its channels, in address order.
  kHchan,
  // SemaRoot::lock (sema.cpp): one root of the semaphore table, its waiters.
  kSemaRoot,
  // NotifyList::lock_ (sema.cpp, declared in gocxx/detail/sema.hpp): a Cond's waiters.
  kNotifyList,
  // g_runtime_lock (scheduler.cpp, shared_mutex): the current Runtime's lifetime, for threads
  // that are not its Ms (timer thread, plain threads); shutdown takes it exclusively.
  kRuntimeLive,
  // Runtime::lock (scheduler.hpp): global run queue, idle Ps and Ms, the M list.
  kSched,
  // GPool::lock (gpool.cpp): the process-wide pool of dead Gs.
  kGFree,
  // Registry::lock (registry.cpp): allgs, the list of every G (dumps copy it under the lock).
  kAllGs,
  // Slabs::lock (stack.cpp): the goroutine stack slabs.
  kStackSlab,
  // PollCache::lock (netpoll.cpp): the free list of poll descriptors.
  kPollCache,
  // g_replaced_lock (panic.cpp): which exception replaced which panic, per goroutine.
  kPanicReplaced,
  kCount
};

struct LockRankInfo {
  LockRank rank;
  const char* name;
  bool multi;  // several locks of this rank may be held at once (in address order)
};

inline constexpr LockRankInfo kLockRanks[] = {
    {LockRank::kPollDesc, "pollDesc (PollDesc::lock)", false},
    {LockRank::kTimers, "timers (TimerQueue::lock_)", false},
    {LockRank::kHchan, "hchan (ChanCore::lock)", true},
    {LockRank::kSemaRoot, "semaRoot (SemaRoot::lock)", false},
    {LockRank::kNotifyList, "notifyList (NotifyList::lock_)", false},
    {LockRank::kRuntimeLive, "runtimeLive (g_runtime_lock)", false},
    {LockRank::kSched, "sched (Runtime::lock)", false},
    {LockRank::kGFree, "gFree (GPool::lock)", false},
    {LockRank::kAllGs, "allg (Registry::lock)", false},
    {LockRank::kStackSlab, "stackSlab (Slabs::lock)", false},
    {LockRank::kPollCache, "pollCache (PollCache::lock)", false},
    {LockRank::kPanicReplaced, "panicReplaced (g_replaced_lock)", false},
};

// The table is the enum, row for row (checked in every build).
constexpr bool lock_rank_table_consistent() {
  if (sizeof kLockRanks / sizeof kLockRanks[0] != static_cast<std::size_t>(LockRank::kCount)) {
    return false;
  }
  for (std::size_t i = 0; i < static_cast<std::size_t>(LockRank::kCount); ++i) {
    if (static_cast<std::size_t>(kLockRanks[i].rank) != i) return false;
    if (kLockRanks[i].name == nullptr || kLockRanks[i].name[0] == '\0') return false;
  }
  return true;
}
static_assert(lock_rank_table_consistent(), "kLockRanks must list every LockRank, in order");

constexpr const char* lock_rank_name(LockRank r) {
  return static_cast<std::size_t>(r) < static_cast<std::size_t>(LockRank::kCount)
             ? kLockRanks[static_cast<std::size_t>(r)].name
             : "?";
}

inline constexpr bool kLockRankChecking = GOCXX_LOCK_RANK != 0;

#if GOCXX_LOCK_RANK

namespace lockrank_impl {

struct Held {
  static constexpr int kMax = 32;
  bool crashing;
  int n;
  LockRank rank[kMax];
  const void* addr[kMax];
};
inline thread_local constinit Held t_held{};

// Prints Go's report and aborts. Plain write(2): no allocation, no lock, no runtime call (the
// runtime's fatal takes locks of its own to dump goroutines).
[[noreturn, gnu::noinline, gnu::cold]] inline void fail(const char* what, LockRank r,
                                                       const Held& h, int culprit) {
  char buf[2048];
  int len = std::snprintf(buf, sizeof buf, "fatal error: lock ordering problem: %s %s", what,
                          lock_rank_name(r));
  if (culprit >= 0 && len > 0 && static_cast<std::size_t>(len) < sizeof buf) {
    len += std::snprintf(buf + len, sizeof buf - len, " while holding %s",
                         lock_rank_name(h.rank[culprit]));
  }
  if (len > 0 && static_cast<std::size_t>(len) < sizeof buf) {
    len += std::snprintf(buf + len, sizeof buf - len, "\nlocks held by this thread:\n");
  }
  for (int i = 0; i < h.n && len > 0 && static_cast<std::size_t>(len) < sizeof buf; ++i) {
    len += std::snprintf(buf + len, sizeof buf - len, "  %d: %s %p\n", i,
                         lock_rank_name(h.rank[i]), h.addr[i]);
  }
  if (len < 0) len = 0;
  if (static_cast<std::size_t>(len) >= sizeof buf) len = sizeof buf - 1;
  (void)!::write(2, buf, static_cast<std::size_t>(len));
  std::abort();
}

// Records lock (r, addr) as held by this thread.
inline void push_held(Held& h, LockRank r, const void* addr) {
  if (h.n == Held::kMax) {
    if (h.crashing) return;
    fail("too many locks held: acquiring", r, h, h.n - 1);
  }
  h.rank[h.n] = r;
  h.addr[h.n] = addr;
  ++h.n;
}

}  // namespace lockrank_impl

// The hooks, out of line (see the top). lock_rank_acquire is called before blocking on a lock
// of rank r at addr: it aborts if that order could deadlock, else records the lock as held.
// lock_rank_try_acquired records a lock taken by a successful try_lock (not checked: it did
// not wait). lock_rank_release removes a released lock, wherever it is in the held stack.
// lock_rank_held_count says how many runtime locks the calling thread holds (tests).

[[gnu::noinline]] inline void lock_rank_acquire(LockRank r, const void* addr) {
  using namespace lockrank_impl;
  Held& h = t_held;
  const auto& info = kLockRanks[static_cast<std::size_t>(r)];
  for (int i = 0; i < h.n && !h.crashing; ++i) {
    if (h.rank[i] < r) continue;
    if (h.rank[i] == r && info.multi &&
        reinterpret_cast<std::uintptr_t>(h.addr[i]) < reinterpret_cast<std::uintptr_t>(addr)) {
      continue;
    }
    fail("acquiring", r, h, i);
  }
  push_held(h, r, addr);
}

[[gnu::noinline]] inline void lock_rank_try_acquired(LockRank r, const void* addr) {
  lockrank_impl::push_held(lockrank_impl::t_held, r, addr);
}

[[gnu::noinline]] inline void lock_rank_release(LockRank r, const void* addr) {
  using namespace lockrank_impl;
  Held& h = t_held;
  for (int i = h.n - 1; i >= 0; --i) {
    if (h.rank[i] == r && h.addr[i] == addr) {
      for (int j = i; j + 1 < h.n; ++j) {
        h.rank[j] = h.rank[j + 1];
        h.addr[j] = h.addr[j + 1];
      }
      --h.n;
      return;
    }
  }
  if (!h.crashing) fail("releasing a lock not held:", r, h, -1);
}

// The calling thread is crashing: its remaining acquisitions are not checked.
[[gnu::noinline]] inline void lock_rank_crashing() { lockrank_impl::t_held.crashing = true; }

[[gnu::noinline]] inline int lock_rank_held_count() { return lockrank_impl::t_held.n; }

// A lock of type Base (std::mutex, std::shared_mutex, Lock) checked against the table.
template <LockRank R, class Base>
class RankedBase {
 public:
  static constexpr LockRank kRank = R;
  void lock() {
    lock_rank_acquire(R, this);
    m_.lock();
  }
  bool try_lock() {
    if (!m_.try_lock()) return false;
    lock_rank_try_acquired(R, this);
    return true;
  }
  void unlock() {
    lock_rank_release(R, this);
    m_.unlock();
  }

 protected:
  Base m_;
};

template <LockRank R>
using RankedMutex = RankedBase<R, std::mutex>;
template <LockRank R>
using RankedLock = RankedBase<R, Lock>;

// Shared holds are checked like exclusive ones: a thread that takes a shared lock twice can
// deadlock behind a waiting writer.
template <LockRank R>
class RankedSharedMutex : public RankedBase<R, std::shared_mutex> {
 public:
  void lock_shared() {
    lock_rank_acquire(R, this);
    this->m_.lock_shared();
  }
  bool try_lock_shared() {
    if (!this->m_.try_lock_shared()) return false;
    lock_rank_try_acquired(R, this);
    return true;
  }
  void unlock_shared() {
    lock_rank_release(R, this);
    this->m_.unlock_shared();
  }
};

#else  // !GOCXX_LOCK_RANK: the plain types and empty hooks

inline void lock_rank_acquire(LockRank, const void*) {}
inline void lock_rank_try_acquired(LockRank, const void*) {}
inline void lock_rank_release(LockRank, const void*) {}
inline int lock_rank_held_count() { return 0; }
inline void lock_rank_crashing() {}

template <LockRank>
using RankedMutex = std::mutex;
template <LockRank>
using RankedLock = Lock;
template <LockRank>
using RankedSharedMutex = std::shared_mutex;

#endif

}  // namespace gocxx::detail

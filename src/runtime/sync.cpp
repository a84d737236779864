// gocxx::sync's slow paths: Go's Mutex (mutex.go), RWMutex (rwmutex.go), WaitGroup (waitgroup.go).
#include "gocxx/sync.hpp"

#include <thread>

#include "futex.hpp"
#include "scheduler.hpp"

namespace gocxx::sync {

using detail::WaitReason;

namespace {
constexpr std::int64_t kStarvationThresholdNs = 1'000'000;  // Go's 1 ms

// Spinning only pays off when the holder runs on another core and will release soon.
bool can_spin(int iteration) {
  static const bool multicore = std::thread::hardware_concurrency() > 1;
  return iteration < 4 && multicore && gocxx::procs() > 1;
}
}  // namespace

bool Mutex::try_lock() {
  std::int32_t old = state_.load(std::memory_order_relaxed);
  if (old & (kLocked | kStarving)) return false;
  return state_.compare_exchange_strong(old, old | kLocked, std::memory_order_acquire,
                                        std::memory_order_relaxed);
}

// Normal mode: waiters queue FIFO but a woken waiter competes with newly arriving lockers
// (which usually win: they are already on a CPU). A waiter that fails for over 1 ms switches
// the mutex to starvation mode, where unlock hands ownership straight to the queue head.
void Mutex::lock_slow(WaitReason reason) {
  std::int64_t wait_start = 0;
  bool starving = false;
  bool awoke = false;
  int iteration = 0;
  std::int32_t old = state_.load(std::memory_order_relaxed);
  for (;;) {
    if ((old & (kLocked | kStarving)) == kLocked && can_spin(iteration)) {
      // Tell Unlock not to wake others while we spin for it.
      if (!awoke && (old & kWoken) == 0 && (old >> kWaiterShift) != 0 &&
          state_.compare_exchange_weak(old, old | kWoken, std::memory_order_relaxed)) {
        awoke = true;
      }
      for (int i = 0; i < 30; ++i) detail::cpu_relax();
      ++iteration;
      old = state_.load(std::memory_order_relaxed);
      continue;
    }
    std::int32_t desired = old;
    if ((old & kStarving) == 0) desired |= kLocked;  // starving: newcomers must queue
    if (old & (kLocked | kStarving)) desired += 1 << kWaiterShift;
    if (starving && (old & kLocked)) desired |= kStarving;
    if (awoke) desired &= ~kWoken;
    if (!state_.compare_exchange_weak(old, desired, std::memory_order_acquire,
                                      std::memory_order_relaxed)) {
      continue;
    }
    if ((old & (kLocked | kStarving)) == 0) return;  // acquired
    bool queue_lifo = wait_start != 0;
    if (wait_start == 0) wait_start = detail::nanotime();
    sema_.acquire(queue_lifo, reason);
    starving = starving || detail::nanotime() - wait_start > kStarvationThresholdNs;
    old = state_.load(std::memory_order_relaxed);
    if (old & kStarving) {
      // Ownership was handed to us; the state still says unlocked with us as a waiter.
      std::int32_t delta = kLocked - (1 << kWaiterShift);
      if (!starving || (old >> kWaiterShift) == 1) delta -= kStarving;  // leave starvation
      state_.fetch_add(delta, std::memory_order_acquire);
      return;
    }
    awoke = true;
    iteration = 0;
  }
}

void Mutex::unlock_slow(std::int32_t now) {
  if (((now + kLocked) & kLocked) == 0) detail::fatal("sync: unlock of unlocked mutex");
  if ((now & kStarving) == 0) {
    std::int32_t old = now;
    for (;;) {
      // Nobody to wake, or someone is already woken/locking: done.
      if ((old >> kWaiterShift) == 0 || (old & (kLocked | kWoken | kStarving)) != 0) return;
      std::int32_t desired = (old - (1 << kWaiterShift)) | kWoken;
      if (state_.compare_exchange_weak(old, desired, std::memory_order_release,
                                       std::memory_order_relaxed)) {
        sema_.release(false);
        return;
      }
    }
  }
  sema_.release(true);  // starvation mode: hand off to the next waiter
}

// ---- RWMutex ------------------------------------------------------------------------------

void RWMutex::lock_shared() {
  detail::chaos_point();
  if (reader_count_.fetch_add(1, std::memory_order_acquire) + 1 < 0) {
    reader_sem_.acquire(false, WaitReason::kSyncRWMutexRLock);  // a writer is pending
  }
}

bool RWMutex::try_lock_shared() {
  std::int32_t c = reader_count_.load(std::memory_order_relaxed);
  while (c >= 0) {
    if (reader_count_.compare_exchange_weak(c, c + 1, std::memory_order_acquire,
                                            std::memory_order_relaxed)) {
      return true;
    }
  }
  return false;
}

void RWMutex::unlock_shared() {
  std::int32_t r = reader_count_.fetch_sub(1, std::memory_order_release) - 1;
  if (r < 0) {
    if (r + 1 == 0 || r + 1 == -kMaxReaders) detail::fatal("sync: RUnlock of unlocked RWMutex");
    // A writer is pending; the last departing reader wakes it.
    if (reader_wait_.fetch_sub(1, std::memory_order_acq_rel) - 1 == 0) writer_sem_.release(false);
  }
  detail::chaos_point();
}

// lock() and unlock() are chaos points through writer_ (its lock first, its unlock last).
void RWMutex::lock() {
  writer_.lock();  // excludes other writers
  // Announce the writer: from now on new readers block.
  std::int32_t r = reader_count_.fetch_sub(kMaxReaders, std::memory_order_acq_rel);
  if (r != 0 && reader_wait_.fetch_add(r, std::memory_order_acq_rel) + r != 0) {
    writer_sem_.acquire(false, WaitReason::kSyncRWMutexLock);
  }
}

bool RWMutex::try_lock() {
  if (!writer_.try_lock()) return false;
  std::int32_t expected = 0;
  if (!reader_count_.compare_exchange_strong(expected, -kMaxReaders, std::memory_order_acquire,
                                             std::memory_order_relaxed)) {
    writer_.unlock();
    return false;
  }
  return true;
}

void RWMutex::unlock() {
  std::int32_t r = reader_count_.fetch_add(kMaxReaders, std::memory_order_release) + kMaxReaders;
  if (r >= kMaxReaders) detail::fatal("sync: Unlock of unlocked RWMutex");
  for (std::int32_t i = 0; i < r; ++i) reader_sem_.release(false);  // readers that queued
  writer_.unlock();
}

// ---- WaitGroup ----------------------------------------------------------------------------

void WaitGroup::add(int delta) {
  std::uint64_t state =
      state_.fetch_add(static_cast<std::uint64_t>(static_cast<std::int64_t>(delta)) << 32,
                       std::memory_order_acq_rel) +
      (static_cast<std::uint64_t>(static_cast<std::int64_t>(delta)) << 32);
  auto counter = static_cast<std::int32_t>(state >> 32);
  auto waiters = static_cast<std::uint32_t>(state);
  if (counter < 0) detail::throw_panic("sync: negative WaitGroup counter");
  if (waiters != 0 && delta > 0 && counter == delta) {
    detail::throw_panic("sync: WaitGroup misuse: Add called concurrently with Wait");
  }
  if (counter > 0 || waiters == 0) return;
  // Counter reached zero with waiters: nobody may touch the state now but us.
  if (state_.load(std::memory_order_relaxed) != state) {
    detail::throw_panic("sync: WaitGroup misuse: Add called concurrently with Wait");
  }
  state_.store(0, std::memory_order_relaxed);
  for (; waiters != 0; --waiters) sema_.release(false);
}

void WaitGroup::wait() {
  detail::chaos_point();
  std::uint64_t state = state_.load(std::memory_order_acquire);
  for (;;) {
    if ((state >> 32) == 0) return;
    if (state_.compare_exchange_weak(state, state + 1, std::memory_order_acq_rel)) {
      sema_.acquire(false, WaitReason::kSyncWaitGroupWait);
      if (state_.load(std::memory_order_acquire) != 0) {
        detail::throw_panic("sync: WaitGroup is reused before previous Wait has returned");
      }
      return;
    }
  }
}

}  // namespace gocxx::sync

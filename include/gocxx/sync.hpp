// gocxx::sync — Go's package sync. Blocking parks the goroutine (or sleeps a plain thread),
// never the P. Mutex and RWMutex meet the standard Lockable / SharedLockable requirements, so
// std::lock_guard, std::unique_lock and std::shared_lock work with them. Lock, unlock and wait
// operations are scheduler chaos points (gocxx::ChaosOptions, runtime.hpp).
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <utility>

#include "gocxx/detail/chaos.hpp"
#include "gocxx/detail/sema.hpp"

namespace gocxx::sync {

// Go's sync.Mutex: a spinning fast path, FIFO-ish handoff, and starvation mode (a waiter
// blocked for more than 1 ms gets the lock handed to it directly, so nobody starves).
class Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void lock() {
    detail::chaos_point();
    std::int32_t expected = 0;
    if (!state_.compare_exchange_strong(expected, kLocked, std::memory_order_acquire,
                                        std::memory_order_relaxed)) {
      lock_slow();
    }
  }
  bool try_lock();
  void unlock() {
    std::int32_t now = state_.fetch_sub(kLocked, std::memory_order_release) - kLocked;
    if (now != 0) unlock_slow(now);
    detail::chaos_point();  // after the release: a yield here lets a waiter take the lock
  }

 private:
  friend class RWMutex;
  static constexpr std::int32_t kLocked = 1, kWoken = 2, kStarving = 4, kWaiterShift = 3;
  void lock_slow(detail::WaitReason reason = detail::WaitReason::kSyncMutexLock);
  void unlock_slow(std::int32_t now);
  std::atomic<std::int32_t> state_{0};
  detail::Sema sema_;
};

// Go's sync.RWMutex. Writers are preferred: once a writer waits, new readers wait too.
class RWMutex {
 public:
  RWMutex() = default;
  RWMutex(const RWMutex&) = delete;
  RWMutex& operator=(const RWMutex&) = delete;

  void lock();
  bool try_lock();
  void unlock();
  void lock_shared();
  bool try_lock_shared();
  void unlock_shared();

  // Go spellings.
  void rlock() { lock_shared(); }
  void runlock() { unlock_shared(); }

 private:
  static constexpr std::int32_t kMaxReaders = 1 << 30;
  Mutex writer_;                           // held by the writer for its whole section
  detail::Sema writer_sem_, reader_sem_;   // a writer waits for readers; readers for a writer
  std::atomic<std::int32_t> reader_count_{0};  // negative while a writer is pending
  std::atomic<std::int32_t> reader_wait_{0};   // readers the pending writer still waits for
};

// Go's sync.WaitGroup.
class WaitGroup {
 public:
  WaitGroup() = default;
  WaitGroup(const WaitGroup&) = delete;
  WaitGroup& operator=(const WaitGroup&) = delete;

  void add(int delta);
  void done() { add(-1); }
  void wait();

 private:
  std::atomic<std::uint64_t> state_{0};  // high 32 bits: counter; low 32 bits: waiters
  detail::Sema sema_;
};

// Go's sync.Once: call(f) runs f exactly once; concurrent callers wait until it has returned.
// If f throws, the Once still counts as done (Go marks it done in a defer).
class Once {
 public:
  template <class F>
  void call(F&& f) {
    if (done_.load(std::memory_order_acquire) == 0) call_slow(std::forward<F>(f));
  }

 private:
  template <class F>
  void call_slow(F&& f) {
    std::lock_guard guard(mutex_);
    if (done_.load(std::memory_order_relaxed) != 0) return;
    struct MarkDone {
      std::atomic<std::uint32_t>& done;
      ~MarkDone() { done.store(1, std::memory_order_release); }
    } mark{done_};
    std::forward<F>(f)();
  }
  std::atomic<std::uint32_t> done_{0};
  Mutex mutex_;
};

// Go's sync.Cond over a Mutex. wait() must be called with the mutex held.
class Cond {
 public:
  explicit Cond(Mutex& mutex) : mutex_(mutex) {}
  Cond(const Cond&) = delete;
  Cond& operator=(const Cond&) = delete;

  void wait() {
    detail::chaos_point();
    std::uint32_t ticket = notify_.add();
    mutex_.unlock();
    notify_.wait(ticket);
    mutex_.lock();
  }
  void signal() {
    detail::chaos_point();
    notify_.notify_one();
  }
  void broadcast() {
    detail::chaos_point();
    notify_.notify_all();
  }
  Mutex& locker() { return mutex_; }

 private:
  Mutex& mutex_;
  detail::NotifyList notify_;
};

}  // namespace gocxx::sync

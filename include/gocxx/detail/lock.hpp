// The runtime's internal lock: a futex mutex that spins briefly, then sleeps the thread.
//
// It guards short critical sections (a channel, a semaphore's waiter list). Holders never park
// a goroutine while holding it: parking releases it only after the goroutine has switched out
// (see the park/ready protocol in docs/design.md), so sleeping the *thread* here is always
// bounded by another thread's short critical section.
#pragma once

#include <atomic>
#include <cstdint>

namespace gocxx::detail {

class Lock {
 public:
  void lock() {
    std::uint32_t expected = kUnlocked;
    if (!state_.compare_exchange_strong(expected, kLocked, std::memory_order_acquire,
                                        std::memory_order_relaxed)) {
      lock_slow();
    }
  }
  bool try_lock() {
    std::uint32_t expected = kUnlocked;
    return state_.compare_exchange_strong(expected, kLocked, std::memory_order_acquire,
                                          std::memory_order_relaxed);
  }
  void unlock() {
    if (state_.exchange(kUnlocked, std::memory_order_release) == kContended) wake_one();
  }

 private:
  static constexpr std::uint32_t kUnlocked = 0, kLocked = 1, kContended = 2;
  void lock_slow();
  void wake_one();
  std::atomic<std::uint32_t> state_{kUnlocked};
};

}  // namespace gocxx::detail

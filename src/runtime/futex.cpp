#include "futex.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <climits>

#include "gocxx/detail/lock.hpp"

namespace gocxx::detail {

void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected, std::int64_t timeout_ns) {
  timespec ts{};
  timespec* timeout = nullptr;
  if (timeout_ns >= 0) {
    ts.tv_sec = timeout_ns / 1'000'000'000;
    ts.tv_nsec = timeout_ns % 1'000'000'000;
    timeout = &ts;
  }
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected,
          timeout, nullptr, 0);
}

void futex_wake(std::atomic<std::uint32_t>& word, int count) {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE,
          count < 0 ? INT_MAX : count, nullptr, nullptr, 0);
}

// Lock: spin a little (the holder's section is short and it runs on another core), then sleep.
void Lock::lock_slow() {
  for (int spin = 0; spin < 64; ++spin) {
    std::uint32_t expected = kUnlocked;
    if (state_.load(std::memory_order_relaxed) == kUnlocked &&
        state_.compare_exchange_weak(expected, kLocked, std::memory_order_acquire,
                                     std::memory_order_relaxed)) {
      return;
    }
    cpu_relax();
  }
  // Mark contended so the holder wakes us; whoever takes it from here keeps it marked, since
  // other sleepers may exist.
  while (state_.exchange(kContended, std::memory_order_acquire) != kUnlocked) {
    futex_wait(state_, kContended);
  }
}

void Lock::wake_one() { futex_wake(state_, 1); }

}  // namespace gocxx::detail

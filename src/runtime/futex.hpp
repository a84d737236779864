// Thin wrappers over the Linux futex system call: sleep while a 32-bit word holds a value.
#pragma once

#include <atomic>
#include <cstdint>

namespace gocxx::detail {

// Sleeps while *word == expected, at most timeout_ns (< 0: no limit). Spurious returns happen;
// callers loop on their own condition.
void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                std::int64_t timeout_ns = -1);
void futex_wake(std::atomic<std::uint32_t>& word, int count);

// A spin-wait hint to the CPU.
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

}  // namespace gocxx::detail

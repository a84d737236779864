// Context switches between a thread's scheduler context (g0) and goroutines, on Boost.Context's
// fcontext (a few register pushes and a stack-pointer swap), annotated for the sanitizers:
// ASan must learn which stack is live (else it reports false stack-buffer-overflows and its
// fake stacks leak), and TSan must learn which fiber's happens-before history applies.
#pragma once

#include <boost/context/detail/fcontext.hpp>
#include <cstddef>

#if defined(__SANITIZE_ADDRESS__)
#define GOCXX_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GOCXX_ASAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define GOCXX_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define GOCXX_TSAN 1
#endif
#endif

extern "C" {
#ifdef GOCXX_ASAN
void __asan_unpoison_memory_region(void const volatile* addr, std::size_t size);
void __lsan_register_root_region(const void* p, std::size_t size);
void __sanitizer_start_switch_fiber(void** fake_stack_save, const void* bottom, std::size_t size);
void __sanitizer_finish_switch_fiber(void* fake_stack_save, const void** bottom_old,
                                     std::size_t* size_old);
#endif
#ifdef GOCXX_TSAN
void* __tsan_get_current_fiber();
void* __tsan_create_fiber(unsigned flags);
void __tsan_destroy_fiber(void* fiber);
void __tsan_switch_to_fiber(void* fiber, unsigned flags);
#endif
}

namespace gocxx::detail {

namespace fctx = boost::context::detail;

// The C++ runtime's per-thread exception state: the Itanium C++ ABI's __cxa_eh_globals (the
// stack of caught exceptions, the count of uncaught ones), which libstdc++ and libc++abi lay out
// alike. A goroutine can switch away inside a catch block or while unwinding (a handler that
// sends on a channel, a destructor that locks a Mutex) and resume on another thread, or after
// another goroutine caught exceptions on this one: so each goroutine keeps its own state, and
// every switch swaps it into the thread the goroutine runs on (switch_away).
struct EhState {
  void* caught_exceptions = nullptr;
  unsigned int uncaught_exceptions = 0;
};
// The calling thread's state, inside the C++ runtime (__cxa_get_globals).
EhState* thread_eh_state();

// One side of a switch: a goroutine, or a thread's own scheduler stack.
struct ExecContext {
  fctx::fcontext_t saved = nullptr;  // where to resume; valid while not running
  const void* stack_bottom = nullptr;
  std::size_t stack_size = 0;
  void* asan_fake_stack = nullptr;
  void* tsan_fiber = nullptr;
  unsigned tsan_lives = 0;
  static constexpr unsigned kTsanFiberLives = 16;

  // Describes the calling thread's own stack as this context (a scheduler thread's g0).
  void adopt_current_thread();
  // Describes a fresh goroutine stack [bottom, bottom + size).
  void init_fiber(void* bottom, std::size_t size) {
    stack_bottom = bottom;
    stack_size = size;
#ifdef GOCXX_ASAN
    // A reused stack still carries the poison of frames that never returned (the previous
    // goroutine switched away for good from inside them).
    __asan_unpoison_memory_region(bottom, size);
#endif
#ifdef GOCXX_TSAN
    // A fresh fiber every kTsanFiberLives goroutines, not one per G for ever: TSan keeps a
    // shadow call stack per fiber (64 Ki entries, unchecked), and the frames a goroutine never
    // returns from (it ends by switching away inside goroutine_entry; a run may abandon parked
    // ones) stay on it. A recycled G's fiber gains a few entries per life and, after some
    // 20,000 lives, overflowed into TSan's own state of that fiber and crashed. Not every life:
    // making a fiber costs more than the rest of a spawn under TSan. A dead G's fiber is
    // current nowhere, so destroying it here is safe.
    if (tsan_fiber && ++tsan_lives % kTsanFiberLives == 0) {
      __tsan_destroy_fiber(tsan_fiber);
      tsan_fiber = nullptr;
    }
    if (!tsan_fiber) tsan_fiber = __tsan_create_fiber(0);
#endif
  }
};

// Switches from `from` (the running context) to `to`, handing it `data`. Returns when someone
// switches back to `from`; the result carries their context and data. `from_exits` says that
// `from` will never run again (ASan then frees its fake stack).
inline fctx::transfer_t switch_context(ExecContext& from, ExecContext& to, void* data,
                                       bool from_exits = false) {
#ifdef GOCXX_ASAN
  __sanitizer_start_switch_fiber(from_exits ? nullptr : &from.asan_fake_stack, to.stack_bottom,
                                 to.stack_size);
#endif
#ifdef GOCXX_TSAN
  __tsan_switch_to_fiber(to.tsan_fiber, 0);
#endif
  (void)from;
  (void)from_exits;
  fctx::transfer_t t = fctx::jump_fcontext(to.saved, data);
#ifdef GOCXX_ASAN
  __sanitizer_finish_switch_fiber(from.asan_fake_stack, nullptr, nullptr);
#endif
  return t;
}

// First thing a new fiber does on its own stack.
inline void fiber_started() {
#ifdef GOCXX_ASAN
  __sanitizer_finish_switch_fiber(nullptr, nullptr, nullptr);
#endif
}

}  // namespace gocxx::detail

// Scheduler chaos's check at each point it perturbs (gocxx::ChaosOptions in runtime.hpp is the
// API; src/runtime/chaos.cpp does the rest). It is in a public header because some points are
// header-inline: sync.hpp's Mutex fast paths and chan.hpp's select. With chaos off, a point costs
// one relaxed load of a flag and a branch that is not taken. Nothing here is API: user code must
// not name gocxx::detail.
#pragma once

#include <atomic>

namespace gocxx::detail {

// True while a run has chaos on: set before its main goroutine starts, cleared once it ended.
extern std::atomic<bool> g_chaos;

// A point's draw: may yield or sleep the calling goroutine (nothing on a plain thread).
[[gnu::cold]] void chaos_act();

// Place a point only where the calling goroutine may be switched out: at an operation's entry,
// before it takes any runtime lock, or after its last unlock; never where a caller may hold a
// runtime lock (the timer queue calls detail::select so: gocxx::select has the point instead).
inline void chaos_point() {
  if (g_chaos.load(std::memory_order_relaxed)) [[unlikely]] chaos_act();
}

}  // namespace gocxx::detail

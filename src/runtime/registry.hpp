// The registry of every G ever created (Go's allgs). Gs are never freed, so a G pointer read
// from the registry stays valid forever; its fields are read under the G's scan bit.
#pragma once

#include <cstddef>

#include "goroutine.hpp"

namespace gocxx::detail {

void registry_add(G* g);
// Calls fn(g, arg) for every G ever created, in creation order.
void registry_for_each(void (*fn)(G* g, void* arg), void* arg);

// The registry as a debugger sees it: gs[0..count) are every G ever created, in creation
// order. Nothing in the program reads it; tools/gdb/gocxx.py finds it by name in a live
// process or a core file, where no code can run. Written under the registry lock; a grown
// array is published before the old one is freed and new slots are zeroed, so a process
// stopped anywhere (even in registry_add) shows every G, at most with a null slot at the end.
struct DebugAllGs {
  G* const* gs;
  std::size_t count;
};
extern DebugAllGs debug_allgs;

}  // namespace gocxx::detail

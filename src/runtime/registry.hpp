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

// Go's string for each wait reason (runtime2.go's waitReasonStrings). constexpr, so that the
// debugger's layout table (layout.cpp) embeds the same strings; wait_reason_string returns it.
// No default: -Wswitch names a new enumerator, and the table does not compile while one has
// no string (nullptr).
constexpr const char* wait_reason_text(WaitReason reason) {
  switch (reason) {
    case WaitReason::kZero: return "";
    case WaitReason::kChanSend: return "chan send";
    case WaitReason::kChanReceive: return "chan receive";
    case WaitReason::kChanSendNilChan: return "chan send (nil chan)";
    case WaitReason::kChanReceiveNilChan: return "chan receive (nil chan)";
    case WaitReason::kSelect: return "select";
    case WaitReason::kSelectNoCases: return "select (no cases)";
    case WaitReason::kSleep: return "sleep";
    case WaitReason::kSyncMutexLock: return "sync.Mutex.Lock";
    case WaitReason::kSyncRWMutexRLock: return "sync.RWMutex.RLock";
    case WaitReason::kSyncRWMutexLock: return "sync.RWMutex.Lock";
    case WaitReason::kSyncWaitGroupWait: return "sync.WaitGroup.Wait";
    case WaitReason::kSyncCondWait: return "sync.Cond.Wait";
    case WaitReason::kSemacquire: return "semacquire";
    case WaitReason::kForever: return "forever";
    case WaitReason::kIOWait: return "IO wait";
    case WaitReason::kCount: break;
  }
  return nullptr;
}


}  // namespace gocxx::detail

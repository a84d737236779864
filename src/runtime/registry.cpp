#include "registry.hpp"

#include <algorithm>
#include <memory>
#include <mutex>

#include "lockrank.hpp"

namespace gocxx::detail {

[[gnu::used]] DebugAllGs debug_allgs{nullptr, 0};

// Auto-loads the gdb extension (tools/gdb/gocxx.py: `info goroutines`, `goroutine N bt`) into
// any gdb that debugs a program linked with gocxx, once the program is in gdb's
// `auto-load safe-path`. The whole script is embedded (entry type 4, "inlined Python script":
// a name line, then the text, NUL-terminated), so it needs no installed file and always
// matches the runtime it reads. It lives in this file because every program that runs a
// goroutine links it (a static library contributes only the objects something refers to).
// The section is not allocated: it costs no memory at run time, and `strip` removes it along
// with the debug info the script needs anyway.
#if defined(GOCXX_GDB_SCRIPT) && defined(__ELF__)
asm(".pushsection \".debug_gdb_scripts\", \"MS\", @progbits, 1\n"
    ".byte 4\n"
    ".ascii \"gocxx/gdb/gocxx.py\\n\"\n"
    ".incbin \"" GOCXX_GDB_SCRIPT "\"\n"
    ".byte 0\n"
    ".popsection\n");
#endif

namespace {
struct Registry {
  RankedMutex<LockRank::kAllGs> lock;
  std::unique_ptr<G*[]> gs;  // gs[0..count); mirrored in debug_allgs
  std::size_t count = 0;
  std::size_t capacity = 0;
};
Registry& registry() {
  static Registry* r = new Registry;  // Gs outlive static destruction; so does their index
  return *r;
}
}  // namespace

void registry_add(G* g) {
  auto& r = registry();
  std::lock_guard lk(r.lock);
  if (r.count == r.capacity) {
    // Grown by hand rather than by std::vector: the new array is published to debug_allgs
    // before the old one is freed, so a debugger never follows a dangling pointer.
    std::size_t capacity = std::max<std::size_t>(64, 2 * r.capacity);
    std::unique_ptr<G*[]> gs(new G*[capacity]());
    std::copy(r.gs.get(), r.gs.get() + r.count, gs.get());
    debug_allgs.gs = gs.get();
    std::swap(r.gs, gs);  // the old array is freed at scope exit
    r.capacity = capacity;
  }
  r.gs[r.count] = g;
  debug_allgs.count = ++r.count;
}

void registry_for_each(void (*fn)(G* g, void* arg), void* arg) {
  auto& r = registry();
  std::lock_guard lk(r.lock);
  for (std::size_t i = 0; i < r.count; ++i) fn(r.gs[i], arg);
}

const char* status_string(std::uint32_t status) {
  switch (status & ~kScanBit) {
    case kIdle: return "idle";
    case kRunnable: return "runnable";
    case kRunning: return "running";
    case kSyscall: return "syscall";
    case kWaiting: return "waiting";
    case kDead: return "dead";
  }
  return "unknown";
}

const char* wait_reason_string(WaitReason reason) {
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
  return "unknown";
}

}  // namespace gocxx::detail

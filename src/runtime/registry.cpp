#include "registry.hpp"

#include <algorithm>
#include <memory>
#include <mutex>

#include "lockrank.hpp"

namespace gocxx::detail {

[[gnu::used]] DebugAllGs debug_allgs{nullptr, 0};

// layout.cpp's table (the gdb extension's offsets for programs without debug info). Referred
// to here so that every program that links this file links that one too.
struct DebugLayout;
extern "C" const DebugLayout gocxx_debug_layout;
[[gnu::used]] static const void* const debug_layout_ref = &gocxx_debug_layout;

// Auto-loads the gdb extension (tools/gdb/gocxx.py: `info goroutines`, `goroutine N bt`) into
// any gdb that debugs a program linked with gocxx, once the program is in gdb's
// `auto-load safe-path`. The whole script is embedded (entry type 4, "inlined Python script":
// a name line, then the text, NUL-terminated), so it needs no installed file and always
// matches the runtime it reads. It lives in this file because every program that runs a
// goroutine links it (a static library contributes only the objects something refers to).
// The section is not allocated: it costs no memory at run time. `strip` (and `strip -g`)
// removes it: then load the script by hand (docs/diagnostics.md); it reads layout.cpp's table.
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
  const char* text = wait_reason_text(reason);
  return text ? text : "unknown";
}

}  // namespace gocxx::detail

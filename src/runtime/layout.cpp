// The gdb extension's layout table: what tools/gdb/gocxx.py needs to list goroutines and
// unwind their stacks in a program without debug info (built -O2 without -g, or with its
// debug info stripped), live or from a core file. With debug info the script reads the same
// facts from DWARF; without it, it reads this table instead (gocxx.py, _table_layout).
//
// READ BY tools/gdb/gocxx.py, byte by byte (struct.unpack of _TABLE_HEADER, then the wait
// reasons): keep the script's _table_layout in sync with DebugLayout, and bump kVersion on any
// change to DebugLayout's own layout or meaning (the script refuses a version it does not
// know). tests/gdb_layout_check.py (run by tests/gdb_test.sh on the -g build) checks every
// value here against the debug info and every string against wait_reason_string.
//
// How the script finds it, from the most to the least information:
//   * the symbol `gocxx_debug_layout` (extern "C", in .symtab unless the program is stripped);
//   * its own section, .gocxx_layout, which survives `strip` (gdb lists it in `info files`).
// It points at debug_allgs, so a stripped program needs no symbol at all. The pointer is
// relocated at load time (PIE, or libgocxx.so): the script reads the table from the process's
// or the core's memory, never from the file. The section is writable data, so relocation
// dirties its page and core dumps (kernel or gcore) include it; in a program nothing
// relocates (not PIE), gdb reads the same bytes from the file.
//
// 640 bytes (with 16 wait reasons), no code. It lives in its own object file, which registry.cpp refers to (a static
// library contributes only the objects something refers to); `retain` keeps it from
// --gc-sections.
#include <cstddef>
#include <cstdint>
#include <thread>

#include "goroutine.hpp"
#include "registry.hpp"
#include "scheduler.hpp"

namespace gocxx::detail {
namespace {

constexpr std::uint32_t kVersion = 1;
constexpr std::size_t kReasons = static_cast<std::size_t>(WaitReason::kCount);
constexpr std::size_t kReasonWidth = 32;  // bytes per wait-reason string, NUL-padded

}  // namespace

struct DebugLayout {
  struct Field {
    std::uint32_t offset;
    std::uint32_t size;
  };
  char magic[8];                // "gocxxGL" and a NUL
  std::uint32_t version;        // kVersion
  std::uint32_t size;           // sizeof(DebugLayout)
  const DebugAllGs* allgs;      // &debug_allgs: where the registry's array of Gs is
  std::uint32_t allgs_gs;       // offsetof(DebugAllGs, gs): G* const*
  std::uint32_t allgs_count;    // offsetof(DebugAllGs, count): std::size_t
  std::uint32_t g_size;         // sizeof(G): the script reads each G in one piece
  std::uint32_t m_thread;       // offset of M::thread's pthread_t in M
  // G's fields, in the order of gocxx.py's _Layout.FIELDS.
  Field id, parent_id, status, create_pc, start_pc, wait_reason, context_saved, stack_bottom,
      stack_size, m;
  std::uint32_t wait_reason_count;  // WaitReason::kCount
  std::uint32_t wait_reason_width;  // kReasonWidth
  char wait_reasons[kReasons][kReasonWidth];  // [WaitReason] -> Go's string
};

namespace {

// G's layout is read with offsetof, which needs standard-layout types to be portable; GCC and
// Clang give the expected answer for any non-virtual type, and -Winvalid-offsetof would say.
#define GOCXX_FIELD(type, member) \
  DebugLayout::Field { offsetof(type, member), sizeof(static_cast<type*>(nullptr)->member) }

consteval DebugLayout make_layout() {
  DebugLayout t{};
  const char magic[8] = "gocxxGL";
  for (int i = 0; i < 8; ++i) t.magic[i] = magic[i];
  t.version = kVersion;
  t.size = sizeof(DebugLayout);
  t.allgs = &debug_allgs;
  t.allgs_gs = offsetof(DebugAllGs, gs);
  t.allgs_count = offsetof(DebugAllGs, count);
  t.g_size = sizeof(G);
  t.m_thread = offsetof(M, thread);
  t.id = GOCXX_FIELD(G, id);
  t.parent_id = GOCXX_FIELD(G, parent_id);
  t.status = GOCXX_FIELD(G, status);
  t.create_pc = GOCXX_FIELD(G, create_pc);
  t.start_pc = GOCXX_FIELD(G, start_pc);
  t.wait_reason = GOCXX_FIELD(G, wait_reason);
  t.context_saved = GOCXX_FIELD(G, context.saved);
  t.stack_bottom = GOCXX_FIELD(G, stack.bottom);
  t.stack_size = GOCXX_FIELD(G, stack.size);
  t.m = GOCXX_FIELD(G, m);
  t.wait_reason_count = kReasons;
  t.wait_reason_width = kReasonWidth;
  for (std::size_t r = 0; r < kReasons; ++r) {
    const char* text = wait_reason_text(static_cast<WaitReason>(r));
    std::size_t i = 0;
    for (; text[i] != '\0'; ++i) {
      if (i + 1 >= kReasonWidth) throw "a wait reason does not fit kReasonWidth";
      t.wait_reasons[r][i] = text[i];
    }
  }
  return t;
}

#undef GOCXX_FIELD

// What the script assumes without reading it from anywhere (gocxx.py's _STATUS_NAMES and
// _SCAN_BIT; the fcontext layout is Boost's, see _FCTX_REGS).
static_assert(kIdle == 0 && kRunnable == 1 && kRunning == 2 && kSyscall == 3 && kWaiting == 4 &&
              kDead == 6 && kScanBit == 0x1000);
// M::thread is a std::thread that is one pthread_t (libstdc++'s thread::id::_M_thread).
static_assert(sizeof(std::thread) == sizeof(std::thread::native_handle_type));
// The script's _TABLE_HEADER format: 8s I I Q I I I I 20I I I (x86-64: no padding).
static_assert(offsetof(DebugLayout, allgs) == 16 && offsetof(DebugLayout, id) == 40 &&
              offsetof(DebugLayout, wait_reason_count) == 120 &&
              offsetof(DebugLayout, wait_reasons) == 128);

}  // namespace

}  // namespace gocxx::detail

// In .symtab as `gocxx_debug_layout` (C linkage: no mangling for the script to guess).
#if defined(__ELF__)
#if __has_attribute(retain)  // GCC 11, Clang 13: keeps the section from --gc-sections
#define GOCXX_LAYOUT_ATTRIBUTES \
  [[gnu::used, gnu::retain, gnu::section(".gocxx_layout"), gnu::visibility("default")]]
#else
#define GOCXX_LAYOUT_ATTRIBUTES \
  [[gnu::used, gnu::section(".gocxx_layout"), gnu::visibility("default")]]
#endif
#else
#define GOCXX_LAYOUT_ATTRIBUTES [[gnu::used]]
#endif
extern "C" GOCXX_LAYOUT_ATTRIBUTES constinit const gocxx::detail::DebugLayout gocxx_debug_layout =
    gocxx::detail::make_layout();

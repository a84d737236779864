#include "stack.hpp"

#include <pthread.h>
#include <signal.h>
#include <ucontext.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <vector>

#include "goroutine.hpp"
#include "hooks.hpp"
#include "lockrank.hpp"
#include "panic.hpp"
#include "scheduler.hpp"

namespace gocxx::detail {

namespace {

constexpr std::size_t kMinStack = 16 * 1024;
constexpr std::size_t kSlabBytes = 64 << 20;     // a slab holds 252 default (256 KiB) stacks
constexpr std::size_t kGuardBatch = 32;          // slots guarded by one process_madvise call
constexpr long kMapsReservedForProcess = 16384;  // mappings left for malloc, libraries, threads

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102  // Linux 6.13; older headers lack it
#endif

std::size_t page_size() {
  static const std::size_t size = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return size;
}

[[noreturn]] void out_of_memory(std::size_t size) {
  char msg[128];
  std::snprintf(msg, sizeof msg, "runtime: cannot map a %zu-byte goroutine stack: %s", size,
                std::strerror(errno));
  std::fprintf(stderr, "%s\n", msg);
  fatal("out of memory");
}

void* map_region(std::size_t bytes) {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (p == MAP_FAILED) out_of_memory(bytes);
  // Huge pages would commit 2 MiB where a goroutine touches 4 KiB.
  madvise(p, bytes, MADV_NOHUGEPAGE);
  return p;
}

// ---- guards ---------------------------------------------------------------------------------

// How guard pages are made, decided at the first stack.
//
// gdb's gcore (generate-core-file) stops copying a mapping at the first page it cannot read, and
// a guard region is such a page: a process that is to be gcore'd sets GOCXX_STACK_GUARD=mprotect
// (kernel core dumps skip guard regions and keep the stacks).
struct Guards {
  // Guard regions work here (Linux 6.13+): a guard costs a page-table entry, no mapping.
  std::atomic<bool> regions{false};
  // Otherwise a guard is an mprotect'd page, which splits the slab's mapping: two mappings per
  // stack. vm.max_map_count, less what the process needs for itself, allows `allowed` of them.
  long max_map_count = 65530;
  std::atomic<long> allowed{0};
  std::atomic<long> left{0};
  std::atomic<const char*> why_mprotect{""};  // for the message when they run out
};

constexpr const char* kNoGuardRegions = "this kernel lacks MADV_GUARD_INSTALL (Linux 6.13)";

bool probe_guard_regions() {
  void* p =
      mmap(nullptr, page_size(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return false;
  bool ok = madvise(p, page_size(), MADV_GUARD_INSTALL) == 0;  // EINVAL before Linux 6.13
  munmap(p, page_size());
  return ok;
}

// GOCXX_STACK_GUARD: "mprotect" for mprotect'd pages even where guard regions work.
bool mprotect_requested() {
  const char* env = std::getenv("GOCXX_STACK_GUARD");
  if (!env || !*env || std::strcmp(env, "region") == 0) return false;
  if (std::strcmp(env, "mprotect") == 0) return true;
  std::fprintf(stderr, "gocxx: ignoring invalid GOCXX_STACK_GUARD=%s (want region or mprotect)\n",
               env);
  return false;
}

Guards& guards() {
  static Guards* g = [] {
    auto* g = new Guards;
    if (mprotect_requested()) {
      g->why_mprotect.store("GOCXX_STACK_GUARD=mprotect is set", std::memory_order_relaxed);
    } else if (probe_guard_regions()) {
      g->regions.store(true, std::memory_order_relaxed);
    } else {
      g->why_mprotect.store(kNoGuardRegions, std::memory_order_relaxed);
    }
    std::ifstream in("/proc/sys/vm/max_map_count");
    in >> g->max_map_count;
    long allowed = std::max(0L, (g->max_map_count - kMapsReservedForProcess) / 2);
    g->allowed.store(allowed, std::memory_order_relaxed);
    g->left.store(allowed, std::memory_order_relaxed);
    return g;
  }();
  return *g;
}

// Go's "fatal error" for a limit of the system, saying what to change. An unguarded stack
// could overflow into its neighbour unnoticed, so there is none.
[[noreturn]] void cannot_guard(int guard_region_error) {
  Guards& g = guards();
  char why[96];
  if (guard_region_error) {
    std::snprintf(why, sizeof why, "MADV_GUARD_INSTALL failed (%s)",
                  std::strerror(guard_region_error));
  } else {
    std::snprintf(why, sizeof why, "%s", g.why_mprotect.load(std::memory_order_relaxed));
  }
  std::fprintf(stderr,
               "runtime: cannot guard another goroutine stack: vm.max_map_count=%ld allows %ld "
               "guarded stacks and %s; raise vm.max_map_count\n",
               g.max_map_count, g.allowed.load(std::memory_order_relaxed), why);
  fatal("too many goroutine stacks");
}

// Makes `page` (inside a slab) a guard page.
void install_guard(char* page) {
  Guards& g = guards();
  int guard_region_error = 0;
  if (g.regions.load(std::memory_order_relaxed)) {
    if (madvise(page, page_size(), MADV_GUARD_INSTALL) == 0) return;
    guard_region_error = errno;  // e.g. mlockall'd memory refuses guard regions
  }
  if (g.left.fetch_sub(1, std::memory_order_relaxed) <= 0 ||
      mprotect(page, page_size(), PROT_NONE) != 0) {
    cannot_guard(guard_region_error);
  }
}

// Guards `n` slots at once, `slot` bytes apart from `first` (each slot's first page), with one
// process_madvise(2) call on this process: one system call instead of n. Linux accepts any advice
// for the calling process there since 6.13, the release that brought guard regions. Returns
// false when it cannot (seccomp, an older kernel, a partial result); the caller then guards each
// slot alone, which is harmless where a batch got part of the way (installing twice is a no-op).
bool install_guards_batched(char* first, std::size_t n, std::size_t slot) {
  static bool unavailable = false;  // written and read under the slab lock
  if (unavailable || !guards().regions.load(std::memory_order_relaxed)) return false;
  static const int self = static_cast<int>(syscall(SYS_pidfd_open, getpid(), 0));  // close-on-exec
  iovec pages[kGuardBatch];
  for (std::size_t i = 0; i < n; ++i) pages[i] = {first + i * slot, page_size()};
  long advised =
      self < 0 ? -1 : syscall(SYS_process_madvise, self, pages, n, MADV_GUARD_INSTALL, 0);
  // Refused outright (no pidfd, a seccomp filter, a kernel without it): one stack at a time
  // from now on, rather than a failing call per stack.
  if (self < 0 || (advised < 0 && errno != EINTR && errno != EAGAIN && errno != ENOMEM)) {
    unavailable = true;
  }
  return advised == static_cast<long>(n * page_size());
}

// ---- slabs ----------------------------------------------------------------------------------

// Stacks of one size are carved from slabs: a mapping of [guard page][stack] slots, so a stack
// costs no mapping of its own. A slab's unused slots are only reserved address space.
struct Slabs {
  struct Slab {
    std::size_t stack_size;
    char* next;           // the next free slot
    std::size_t left;     // free slots
    std::size_t guarded;  // free slots from `next` on whose guard is installed
  };
  RankedMutex<LockRank::kStackSlab> lock;
  std::vector<Slab> by_size;
};

Slabs& slabs() {
  static Slabs* slabs = new Slabs;  // stacks are never unmapped
  return *slabs;
}

// Returns a fresh slot for a stack of `size` bytes: its guard page, installed, then the stack.
char* take_slot(std::size_t size) {
  std::size_t slot = page_size() + size;
  std::lock_guard lk(slabs().lock);
  Slabs::Slab* slab = nullptr;
  for (auto& s : slabs().by_size) {
    if (s.stack_size == size) slab = &s;
  }
  if (!slab) slab = &slabs().by_size.emplace_back(Slabs::Slab{size, nullptr, 0, 0});
  if (slab->left == 0) {
    slab->left = std::max<std::size_t>(1, kSlabBytes / slot);
    slab->next = static_cast<char*>(map_region(slot * slab->left));
    slab->guarded = 0;
  }
  if (slab->guarded == 0) {
    std::size_t batch = std::min(kGuardBatch, slab->left);
    if (install_guards_batched(slab->next, batch, slot)) {
      slab->guarded = batch;
    } else {
      install_guard(slab->next);
      slab->guarded = 1;
    }
  }
  char* base = slab->next;
  slab->next += slot;
  --slab->left;
  --slab->guarded;
  return base;
}

// ---- fault reports ----------------------------------------------------------------------
//
// The handler runs on the faulting thread's alternate signal stack. A report's first lines,
// which name the goroutine, are written with write(2) alone (async-signal-safe); the
// goroutine's stack follows, best effort, from the diag layer's crash reporter (hooks.hpp):
// unwinding and symbolizing allocate and take locks.

struct sigaction g_previous_segv, g_previous_bus;

// Room for unwinding and symbolizing (libdw, demangling) in a fault report, reserved per
// thread and committed only as used.
constexpr std::size_t kAltStackSize = 256 * 1024;

void write_str(const char* s) { (void)!write(2, s, std::strlen(s)); }
void write_num(unsigned long long v, int base = 10) {
  char buf[32];
  int i = sizeof buf;
  do {
    buf[--i] = "0123456789abcdef"[v % base];
    v /= base;
  } while (v);
  (void)!write(2, buf + i, sizeof buf - i);
}
void write_hex(std::uintptr_t v) {
  write_str("0x");
  write_num(v, 16);
}

const char* fault_stack_pointer(void* ucontext) {
  auto* uc = static_cast<ucontext_t*>(ucontext);
#if defined(__x86_64__)
  return reinterpret_cast<const char*>(uc->uc_mcontext.gregs[REG_RSP]);
#elif defined(__aarch64__)
  return reinterpret_cast<const char*>(uc->uc_mcontext.sp);
#else
  (void)uc;
  return nullptr;
#endif
}

std::uintptr_t fault_pc(void* ucontext) {
  auto* uc = static_cast<ucontext_t*>(ucontext);
#if defined(__x86_64__)
  return static_cast<std::uintptr_t>(uc->uc_mcontext.gregs[REG_RIP]);
#elif defined(__aarch64__)
  return static_cast<std::uintptr_t>(uc->uc_mcontext.pc);
#else
  (void)uc;
  return 0;
#endif
}

// The rest of a report, after its first lines: the goroutine's stack in Go's format, through
// the crash report code every other report uses (GOCXX_TRACEBACK applies), then exit 2.
[[noreturn]] void finish_report(const G* g, void* ucontext) {
#ifdef GOCXX_TSAN
  // TSan reports every allocation and lock inside a signal handler: the first lines must do.
  (void)g;
  (void)ucontext;
  _exit(2);
#endif
  // A fault inside malloc or the symbolizer would deadlock what follows: end the process then.
  signal(SIGALRM, SIG_DFL);
  alarm(30);
  hooks().crash_after_fault(g, ucontext);
  _exit(2);  // not reached: the crash reporter exits
}

// A fault in the guard page, or with the stack pointer already below the stack's floor (a
// frame larger than the guard page jumps over it), is this goroutine's stack overflow.
bool is_overflow(const G* g, const char* addr, const char* sp) {
  if (!g) return false;
  if (in_guard_page(g->stack, addr)) return true;
  return sp && sp < g->stack.bottom && sp + (64 << 20) > g->stack.bottom;
}

[[noreturn]] void report_overflow(const G* g, const char* addr, void* ucontext) {
  write_str("runtime: goroutine ");
  write_num(g->id);
  write_str(" stack exceeds ");
  write_num(g->stack.size);
  write_str("-byte limit\nruntime: fault addr=");
  write_hex(reinterpret_cast<std::uintptr_t>(addr));
  write_str(" stack=[");
  write_hex(reinterpret_cast<std::uintptr_t>(g->stack.bottom));
  write_str(", ");
  write_hex(reinterpret_cast<std::uintptr_t>(g->stack.top()));
  write_str("]\nruntime: raise the stack size with gocxx::SpawnOptions{.stack_size} or "
            "GOCXX_STACK_SIZE\nfatal error: stack overflow\n\n");
  finish_report(g, ucontext);
}

// Go's sigpanic: a fault below address 0x1000 is a nil dereference, a panic; any other bad
// address is "unexpected fault address", a fatal error. Either way Go adds the signal line.
[[noreturn]] void report_fault(int sig, const siginfo_t* info, const G* g, void* ucontext) {
  auto addr = reinterpret_cast<std::uintptr_t>(info->si_addr);
  int code = info->si_code;
  bool nil = addr < 0x1000 && (sig == SIGBUS ? code == BUS_ADRERR
                                             : code == SEGV_MAPERR || code == SEGV_ACCERR);
  if (nil) {
    write_str("panic: runtime error: invalid memory address or nil pointer dereference\n");
  } else {
    write_str("unexpected fault address ");
    write_hex(addr);
    write_str("\nfatal error: fault\n");
  }
  write_str(sig == SIGBUS ? "[signal SIGBUS: bus error code="
                          : "[signal SIGSEGV: segmentation violation code=");
  write_hex(static_cast<unsigned>(code));
  write_str(" addr=");
  write_hex(addr);
  write_str(" pc=");
  write_hex(fault_pc(ucontext));
  write_str("]\n\n");
  finish_report(g, ucontext);
}

void on_fault(int sig, siginfo_t* info, void* ucontext) {
  const G* g = current_g();
  const char* addr = static_cast<const char*>(info->si_addr);
  if (is_overflow(g, addr, fault_stack_pointer(ucontext))) report_overflow(g, addr, ucontext);
  const struct sigaction& prev = sig == SIGBUS ? g_previous_bus : g_previous_segv;
  bool default_action = !(prev.sa_flags & SA_SIGINFO) && prev.sa_handler == SIG_DFL;
  // A fault (si_code > 0: raised by the kernel, not sent) on a goroutine that no one else
  // handles gets Go's report. Faults on plain threads or the scheduler's stack, and those a
  // sanitizer or the program handles, are left to them as before.
  if (g && default_action && info->si_code > 0) report_fault(sig, info, g, ucontext);
  if (prev.sa_flags & SA_SIGINFO) {
    prev.sa_sigaction(sig, info, ucontext);
  } else if (prev.sa_handler == SIG_IGN) {
    return;
  } else if (prev.sa_handler != SIG_DFL) {
    prev.sa_handler(sig);
  } else {
    signal(sig, SIG_DFL);  // re-executing the faulting instruction now kills us with a core
  }
}

// This thread's alternate signal stack, with an mprotect'd guard page below it (threads are
// few, and gcore can copy it). One installed before (a sanitizer's) is put back when the thread
// exits, for its owner to free.
struct AltStack {
  char* base = nullptr;  // the guard page, then kAltStackSize bytes
  stack_t previous{};
  ~AltStack() {
    if (!base) return;
    if (!(previous.ss_flags & SS_DISABLE)) {
      sigaltstack(&previous, nullptr);
    } else {
      stack_t off{};
      off.ss_flags = SS_DISABLE;
      sigaltstack(&off, nullptr);
    }
    munmap(base, page_size() + kAltStackSize);
  }
};

}  // namespace

std::size_t normalize_stack_size(std::size_t requested) {
  std::size_t page = page_size();
  std::size_t size = std::clamp(requested, kMinStack, kMaxStackSize);
  return (size + page - 1) / page * page;
}

Stack stack_map(std::size_t size) {
  // The top page is left to fault in when the goroutine first runs: measured on the reference
  // VM, committing it ahead with MADV_POPULATE_WRITE cost more than the fault (bench/RESULTS.md).
  char* guard = take_slot(size);
  return Stack{guard + page_size(), size, guard};
}

bool guard_regions_in_use() { return guards().regions.load(std::memory_order_relaxed); }

void use_mprotect_guards_for_testing(long budget) {
  Guards& g = guards();
  g.regions.store(false, std::memory_order_relaxed);
  g.why_mprotect.store(kNoGuardRegions, std::memory_order_relaxed);
  g.allowed.store(budget, std::memory_order_relaxed);
  g.left.store(budget, std::memory_order_relaxed);
  // The next stacks must be guarded the new way, not come from a batch guarded the old one.
  std::lock_guard lk(slabs().lock);
  for (Slabs::Slab& slab : slabs().by_size) slab.guarded = 0;
}

bool in_guard_page(const Stack& s, const void* addr) {
  auto* a = static_cast<const char*>(addr);
  return s.guard && a >= s.guard && a < s.guard + page_size();
}

void install_overflow_handler_for_thread() {
  static std::once_flag process_wide;
  std::call_once(process_wide, [] {
    struct sigaction sa {};
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &g_previous_segv);
    sigaction(SIGBUS, &sa, &g_previous_bus);
  });
  thread_local AltStack alt;
  if (alt.base) return;
  // A smaller alternate stack (a sanitizer's) is replaced: a fault report needs the room.
  if (sigaltstack(nullptr, &alt.previous) != 0) return;
  if (!(alt.previous.ss_flags & SS_DISABLE) && alt.previous.ss_size >= kAltStackSize) return;
  alt.base = static_cast<char*>(map_region(page_size() + kAltStackSize));
  mprotect(alt.base, page_size(), PROT_NONE);
  stack_t ss{};
  ss.ss_sp = alt.base + page_size();
  ss.ss_size = kAltStackSize;
  sigaltstack(&ss, nullptr);
}

}  // namespace gocxx::detail

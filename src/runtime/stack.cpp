#include "stack.hpp"

#include <pthread.h>
#include <signal.h>
#include <ucontext.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>

#include "goroutine.hpp"
#include "scheduler.hpp"

namespace gocxx::detail {

namespace {

constexpr std::size_t kMinStack = 16 * 1024;
constexpr std::size_t kSlabStacks = 64;        // unguarded stacks per mapping
constexpr long kMapsReservedForProcess = 16384;  // mappings left for malloc, libraries, threads

std::size_t page_size() {
  static const std::size_t size = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return size;
}

// How many more stacks may get a guard page: half of what vm.max_map_count leaves after the
// process's own mappings, since a guarded stack costs two (the guard and the stack).
std::atomic<long>& guard_budget() {
  static std::atomic<long> budget = [] {
    long max_maps = 65530;
    std::ifstream in("/proc/sys/vm/max_map_count");
    in >> max_maps;
    return std::max(0L, (max_maps - kMapsReservedForProcess) / 2);
  }();
  return budget;
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

// Commits a stack's top page now. The goroutine touches it at once anyway (its body and first
// frames live there); committing it with one madvise is several times cheaper than taking the
// page fault where faults are expensive (virtual machines). Kernels before 5.14 lack
// MADV_POPULATE_WRITE: then the page is simply faulted in later.
void commit_top_page(char* top) {
#ifndef MADV_POPULATE_WRITE
  constexpr int MADV_POPULATE_WRITE = 23;
#endif
  madvise(top - page_size(), page_size(), MADV_POPULATE_WRITE);
}

struct Slab {
  std::mutex lock;
  char* next = nullptr;
  std::size_t left = 0;
  std::size_t stack_size = 0;
};

Stack map_unguarded(std::size_t size) {
  static Slab* slab = new Slab;
  std::lock_guard lk(slab->lock);
  if (slab->left == 0 || slab->stack_size != size) {
    slab->next = static_cast<char*>(map_region(size * kSlabStacks));
    slab->left = kSlabStacks;
    slab->stack_size = size;
  }
  Stack s{slab->next, size, nullptr};
  slab->next += size;
  --slab->left;
  commit_top_page(s.top());
  return s;
}

// ---- overflow reporting (async-signal-safe) -----------------------------------------------

struct sigaction g_previous_segv, g_previous_bus;

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

// A fault in the guard page, or with the stack pointer already below the stack's floor (a
// frame larger than the guard page jumps over it), is this goroutine's stack overflow.
bool is_overflow(const G* g, const char* addr, const char* sp) {
  if (!g) return false;
  if (in_guard_page(g->stack, addr)) return true;
  return sp && sp < g->stack.bottom && sp + (64 << 20) > g->stack.bottom;
}

void on_fault(int sig, siginfo_t* info, void* ucontext) {
  const G* g = current_g();
  const char* addr = static_cast<const char*>(info->si_addr);
  if (is_overflow(g, addr, fault_stack_pointer(ucontext))) {
    write_str("runtime: goroutine ");
    write_num(g->id);
    write_str(" stack exceeds ");
    write_num(g->stack.size);
    write_str("-byte limit\nruntime: fault addr=0x");
    write_num(reinterpret_cast<std::uintptr_t>(addr), 16);
    write_str(" stack=[0x");
    write_num(reinterpret_cast<std::uintptr_t>(g->stack.bottom), 16);
    write_str(", 0x");
    write_num(reinterpret_cast<std::uintptr_t>(g->stack.top()), 16);
    write_str("]\nfatal error: stack overflow\n\ngoroutine ");
    write_num(g->id);
    write_str(" [running]:\ncreated by pc=0x");
    write_num(g->create_pc, 16);
    write_str(" in goroutine ");
    write_num(g->parent_id);
    write_str("\n(raise the stack size with gocxx::SpawnOptions{.stack_size} or GOCXX_STACK_SIZE)\n");
    _exit(2);
  }
  // Not ours: hand it to whoever was installed before (a sanitizer, or the default action).
  const struct sigaction& prev = sig == SIGBUS ? g_previous_bus : g_previous_segv;
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

struct AltStack {
  void* memory = nullptr;
  ~AltStack() {
    if (!memory) return;
    stack_t off{};
    off.ss_flags = SS_DISABLE;
    sigaltstack(&off, nullptr);
    std::free(memory);
  }
};

}  // namespace

std::size_t normalize_stack_size(std::size_t requested) {
  std::size_t page = page_size();
  std::size_t size = std::max(requested, kMinStack);
  return (size + page - 1) / page * page;
}

Stack stack_map(std::size_t size) {
  if (guard_budget().fetch_sub(1, std::memory_order_relaxed) > 0) {
    std::size_t page = page_size();
    char* base = static_cast<char*>(map_region(size + page));
    if (mprotect(base, page, PROT_NONE) != 0) out_of_memory(size);
    Stack s{base + page, size, base};
    commit_top_page(s.top());
    return s;
  }
  guard_budget().fetch_add(1, std::memory_order_relaxed);
  return map_unguarded(size);
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
  if (alt.memory) return;
  stack_t current{};
  if (sigaltstack(nullptr, &current) == 0 && !(current.ss_flags & SS_DISABLE)) return;
  constexpr std::size_t kAltSize = 64 * 1024;
  alt.memory = std::malloc(kAltSize);
  stack_t ss{};
  ss.ss_sp = alt.memory;
  ss.ss_size = kAltSize;
  sigaltstack(&ss, nullptr);
}

}  // namespace gocxx::detail

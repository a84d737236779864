// Goroutine stacks: mmap'd, committed lazily by the kernel page by page, pooled with their G.
//
// Every stack has a guard page right below it, so an overflow always faults and is reported
// naming its goroutine. Stacks are carved from slabs (one mapping of many [guard][stack]
// slots). On Linux 6.13+ a guard is a guard region (MADV_GUARD_INSTALL), a page-table marker
// inside the slab's mapping: it costs no memory mapping, so vm.max_map_count does not limit how
// many stacks are guarded. Older kernels (or GOCXX_STACK_GUARD=mprotect) get an mprotect'd
// page, which costs two mappings; when vm.max_map_count has no room for another, creating a
// stack is a fatal error that names it, never an unguarded stack. See docs/design.md, "Stacks".
#pragma once

#include <cstddef>
#include <cstdint>

namespace gocxx::detail {

struct Stack {
  char* bottom = nullptr;  // lowest usable byte
  std::size_t size = 0;    // usable bytes
  char* guard = nullptr;   // the guard page right below `bottom`
  char* top() const { return bottom + size; }
};

// Rounds a requested size up to whole pages, with a floor that fits the runtime's own frames.
// Callers reject sizes above gocxx::kMaxStackSize first; larger ones are clamped, never wrapped.
std::size_t normalize_stack_size(std::size_t requested);

// Maps a new guarded stack of `size` bytes (already normalized). Fails loudly (fatal error) if
// the kernel refuses the memory or the guard.
Stack stack_map(std::size_t size);

// Whether new stacks get guard regions (MADV_GUARD_INSTALL, Linux 6.13+) rather than
// mprotect'd pages (older kernels, or GOCXX_STACK_GUARD=mprotect).
bool guard_regions_in_use();

// Tests only: from now on guard stacks with mprotect'd pages, as on kernels before 6.13, as if
// vm.max_map_count left room for `budget` more of them.
void use_mprotect_guards_for_testing(long budget);

// Where a fault address lies relative to guard pages; used by the SIGSEGV handler.
bool in_guard_page(const Stack& s, const void* addr);

// Installs the SIGSEGV/SIGBUS handler that reports goroutine stack overflows and other faults
// on goroutines (nil dereferences), and gives the calling thread an alternate signal stack to
// run it on. Idempotent per thread.
void install_overflow_handler_for_thread();

}  // namespace gocxx::detail

// Goroutine stacks: mmap'd, committed lazily by the kernel page by page, pooled with their G.
//
// Guard pages cost two memory mappings per stack, and vm.max_map_count (65530 by default) caps
// a process near 32k guarded stacks. So the first stacks get a PROT_NONE guard page (budget
// derived from vm.max_map_count at start-up), and stacks beyond the budget come unguarded from
// slabs of 64 that share one mapping. Unguarded stacks are still checked at every switch (saved
// stack pointer below the stack's floor => fatal "stack overflow"); raising vm.max_map_count
// gives every stack a guard. See docs/design.md, "Stacks".
#pragma once

#include <cstddef>
#include <cstdint>

namespace gocxx::detail {

struct Stack {
  char* bottom = nullptr;  // lowest usable byte
  std::size_t size = 0;    // usable bytes
  char* guard = nullptr;   // the PROT_NONE page below `bottom`, or nullptr if unguarded
  char* top() const { return bottom + size; }
};

// Rounds a requested size up to whole pages, with a floor that fits the runtime's own frames.
std::size_t normalize_stack_size(std::size_t requested);

// Maps a new stack of `size` bytes (already normalized). Fails loudly if the kernel refuses.
Stack stack_map(std::size_t size);

// Where a fault address lies relative to guard pages; used by the SIGSEGV handler.
bool in_guard_page(const Stack& s, const void* addr);

// Installs the SIGSEGV/SIGBUS handler that reports goroutine stack overflows, and gives the
// calling thread an alternate signal stack to run it on. Idempotent per thread.
void install_overflow_handler_for_thread();

}  // namespace gocxx::detail

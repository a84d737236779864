// Stack capture and symbolization: PCs to Go-style frames (function, file:line, +0xoffset),
// with inlined calls expanded from DWARF, as Go's traceback shows inlined frames.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "gocxx/debug.hpp"
#include "runtime/panic.hpp"

namespace gocxx::diag {

using Frame = debug::Frame;

// Return addresses of the calling thread's stack, innermost first, skipping `skip` frames
// (the runtime's, runtime/panic.hpp: panics record their stack).
using detail::capture_stack;

// The registers a context switch saves (x86-64 SysV callee-saved ones, the resume address and
// the stack pointer after it), enough to unwind a stack that is not running.
struct SavedRegisters {
  std::uintptr_t rip, rsp, rbp, rbx, r12, r13, r14, r15;
};

// A word of another goroutine's stack or saved context, which may be changing under us: read
// uninstrumented, since the sanitizers consider those frames dead, and a read racing with their
// owner is expected (the caller validates what it read).
[[gnu::no_sanitize_address, gnu::no_sanitize_thread]] inline std::uintptr_t racy_word(
    const void* addr) {
  return *static_cast<const volatile std::uintptr_t*>(addr);
}

// Return addresses of a stack that is not running, innermost first, starting at `regs`. Reads
// memory only inside [stack_lo, stack_hi): if the stack changes underneath (its goroutine ran
// again), the result is wrong but the unwind never faults; callers validate and discard it.
std::vector<std::uintptr_t> unwind_saved(const SavedRegisters& regs, std::uintptr_t stack_lo,
                                         std::uintptr_t stack_hi, std::size_t max_frames);

// Frames for one PC: the inlined calls at that PC, innermost first, then the real function.
// `return_address` means pc follows a call (the call instruction is at pc - 1).
std::vector<Frame> symbolize(std::uintptr_t pc, bool return_address = true);

// The frames of a stack as Go's traceback shows them: inlined calls expanded, the runtime's own
// frames (gocxx::detail, Boost.Context, the glue of go()/run()) dropped as Go drops runtime.*.
std::vector<Frame> user_frames(const std::vector<std::uintptr_t>& pcs);

// The function that called go(), found from the creation PC (go() is inlined into it).
Frame creator_frame(std::uintptr_t create_pc);

}  // namespace gocxx::diag

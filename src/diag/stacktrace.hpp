// Stack capture and symbolization: PCs to Go-style frames (function, file:line, +0xoffset),
// with inlined calls expanded from DWARF, as Go's traceback shows inlined frames.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace gocxx::diag {

struct Frame {
  std::string function;  // demangled, parameter list removed
  std::string file;      // empty if unknown
  int line = 0;
  std::uintptr_t pc = 0;
  std::uintptr_t offset = 0;  // pc - function entry
};

// Return addresses of the calling thread's stack, innermost first, skipping `skip` frames.
std::vector<std::uintptr_t> capture_stack(int skip);

// Frames for one PC: the inlined calls at that PC, innermost first, then the real function.
// `return_address` means pc follows a call (the call instruction is at pc - 1).
std::vector<Frame> symbolize(std::uintptr_t pc, bool return_address = true);

// Writes frames in Go's traceback format ("func(...)\n\tfile:line +0xoff\n"), dropping the
// runtime's own frames (gocxx::detail, Boost.Context) as Go drops runtime.* frames.
void write_traceback(std::FILE* out, const std::vector<std::uintptr_t>& pcs);

// Go's "created by F in goroutine N" footer for a creation PC.
void write_created_by(std::FILE* out, std::uintptr_t create_pc, std::uint64_t parent_id);

}  // namespace gocxx::diag

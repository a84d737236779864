// Crash reports (the runtime's crash reporter, hooks.hpp): the report for an unrecovered panic
// or a fatal error (the runtime's panic.cpp decides what happened and gives the heading), the
// deadlock and SIGQUIT dumps, and the traceback after a fault report's first lines (stack.cpp
// writes those with write(2) in its signal handler).
#include <ucontext.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "diag/crash.hpp"
#include "diag/goroutines.hpp"
#include "diag/stacktrace.hpp"
#include "runtime/panic.hpp"
#include "runtime/scheduler.hpp"

namespace gocxx::diag {

namespace {

using detail::G;

constexpr std::size_t kMaxReportFrames = 100;  // as Go's traceback

// Drops the frames of the exception machinery (std::terminate, __cxa_throw) above the throw.
void skip_to_throw_site(std::vector<std::uintptr_t>& pcs) {
  for (std::size_t i = 0; i < pcs.size(); ++i) {
    std::string f = symbolize(pcs[i]).back().function;
    if (f == "__cxa_throw" || f == "__cxa_rethrow" || f == "std::rethrow_exception") {
      pcs.erase(pcs.begin(), pcs.begin() + static_cast<std::ptrdiff_t>(i) + 1);
      return;
    }
  }
}

// GOCXX_TRACEBACK, Go's GOTRACEBACK: "none" prints no stacks, "single" (the default) the
// crashing goroutine, "all" (or "system", "crash") every goroutine.
enum class Traceback { none, single, all };
Traceback traceback_setting() {
  const char* env = std::getenv("GOCXX_TRACEBACK");
  if (!env || !*env || std::strcmp(env, "single") == 0) return Traceback::single;
  if (std::strcmp(env, "none") == 0 || std::strcmp(env, "0") == 0) return Traceback::none;
  return Traceback::all;
}

// Every goroutine but the caller, as Go's tracebackothers appends them.
std::string other_goroutines() {
  std::string out;
  auto now = std::chrono::steady_clock::now();
  for (const debug::Goroutine& g : to_records(snapshot_raw())) {
    if (detail::current_g() && g.id == detail::current_g()->id && !g.abandoned) continue;
    out += "\n" + format_goroutine(g, now);
  }
  return out;
}

// Writes the report in one go: two goroutines crashing at once get one report.
[[noreturn]] void write_and_exit(const std::string& report) {
  static std::mutex one_report;
  one_report.lock();
  std::fflush(stdout);  // what the program printed before the crash is not lost (Go's is unbuffered)
  std::fputs(report.c_str(), stderr);
  std::fflush(stderr);
  std::_Exit(2);
}

// The faulting goroutine's return addresses, innermost first, unwound from the registers at
// the fault; only its own stack is read.
std::vector<std::uintptr_t> fault_stack(const G* g, void* ucontext) {
  // The faulting instruction is not a return address. The unwinder and the symbolizer look up
  // pc - 1 for return addresses (the call), so pc + 1 makes them look at the instruction itself.
#if defined(__x86_64__)
  const greg_t* r = static_cast<ucontext_t*>(ucontext)->uc_mcontext.gregs;
  auto reg = [r](int i) { return static_cast<std::uintptr_t>(r[i]); };
  SavedRegisters regs{reg(REG_RIP) + 1, reg(REG_RSP), reg(REG_RBP), reg(REG_RBX),
                      reg(REG_R12),     reg(REG_R13), reg(REG_R14), reg(REG_R15)};
  return unwind_saved(regs, reinterpret_cast<std::uintptr_t>(g->stack.bottom),
                      reinterpret_cast<std::uintptr_t>(g->stack.top()), kMaxReportFrames);
#elif defined(__aarch64__)
  (void)g;
  return {static_cast<std::uintptr_t>(static_cast<ucontext_t*>(ucontext)->uc_mcontext.pc) + 1};
#else
  (void)g;
  (void)ucontext;
  return {};
#endif
}

}  // namespace

void crash(const char* kind, const std::string& heading, const std::vector<std::uintptr_t>& pcs,
           bool from_throw) {
  std::vector<std::uintptr_t> stack = pcs;
  if (from_throw) skip_to_throw_site(stack);
  // No kind: the heading was written already (crash_after_fault).
  std::string out = kind ? std::string(kind) + ": " + heading + "\n\n" : std::string();
  Traceback mode = traceback_setting();
  if (mode != Traceback::none) {
    debug::Goroutine self;
    self.state = debug::GoroutineState::running;
    self.frames = user_frames(stack);
    if (G* g = detail::current_g()) {
      self.id = g->id;
      self.parent_id = g->parent_id;
      if (!is_run_main(g->id, g->parent_id)) self.created_by = creator_frame(g->create_pc);
      out += format_goroutine(self, std::chrono::steady_clock::now());
    } else {
      out += "thread [running]:\n" + format_frames(self.frames) +
             format_created_by(creator_frame(detail::stand_in_create_pc()), 0);
    }
    if (mode == Traceback::all) out += other_goroutines();
  }
  write_and_exit(out);
}

void crash_with_dump(const std::string& heading) {
  std::string out = heading + "\n";
  if (traceback_setting() != Traceback::none) out += other_goroutines();
  write_and_exit(out);
}

void crash_after_fault(const G* g, void* ucontext) {
  crash(nullptr, {}, fault_stack(g, ucontext), false);
}

}  // namespace gocxx::diag

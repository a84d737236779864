// Go's crash reports: panic (an unrecovered panic, or an exception escaping a goroutine) and
// fatal errors. Both print the report, the goroutine's stack and exit with status 2 at once,
// without running static destructors under goroutines that are still executing.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <string>
#include <typeinfo>

#include "../diag/stacktrace.hpp"
#include "scheduler.hpp"

namespace gocxx::detail {

namespace {

[[noreturn]] void crash(const char* kind, const std::string& message, int skip) {
  static std::mutex one_report;  // two goroutines panicking at once: one report wins
  one_report.lock();
  std::fprintf(stderr, "%s: %s\n\n", kind, message.c_str());
  G* g = current_g();
  if (g) {
    std::fprintf(stderr, "goroutine %llu [running]:\n", static_cast<unsigned long long>(g->id));
  } else {
    std::fprintf(stderr, "thread [running]:\n");
  }
  diag::write_traceback(stderr, diag::capture_stack(skip + 1));
  if (g) diag::write_created_by(stderr, g->create_pc, g->parent_id);
  std::fflush(stderr);
  std::_Exit(2);
}

}  // namespace

void throw_panic(const char* message) { crash("panic", message, 1); }

void fatal(const char* message) { crash("fatal error", message, 1); }

void run_goroutine_body(G* g) {
  try {
    g->closure_ops->run(g->closure);
  } catch (const std::exception& e) {
    crash("panic", e.what(), 0);
  } catch (...) {
    crash("panic", "unknown C++ exception", 0);
  }
  g->closure_ops->destroy(g->closure);
}

}  // namespace gocxx::detail

namespace gocxx {

void panic(std::string_view message) { detail::crash("panic", std::string(message), 1); }

}  // namespace gocxx

// Go's crash reports: panic (an unrecovered panic, or an exception escaping a goroutine) and
// fatal errors. Both print the report, the goroutine's stack and exit with status 2 at once,
// without running static destructors under goroutines that are still executing.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <string>
#include <typeinfo>
#include <vector>

#include "../diag/stacktrace.hpp"
#include "scheduler.hpp"

namespace gocxx::detail {

namespace {

// Drops the frames of the exception machinery (std::terminate, __cxa_throw) above the throw.
void skip_to_throw_site(std::vector<std::uintptr_t>& pcs) {
  for (std::size_t i = 0; i < pcs.size(); ++i) {
    std::string f = diag::symbolize(pcs[i]).back().function;
    if (f == "__cxa_throw" || f == "__cxa_rethrow" || f == "std::rethrow_exception") {
      pcs.erase(pcs.begin(), pcs.begin() + static_cast<std::ptrdiff_t>(i) + 1);
      return;
    }
  }
}

[[noreturn]] void crash(const char* kind, const std::string& message, int skip,
                        bool from_throw = false) {
  static std::mutex one_report;  // two goroutines panicking at once: one report wins
  one_report.lock();
  std::fprintf(stderr, "%s: %s\n\n", kind, message.c_str());
  G* g = current_g();
  if (g) {
    std::fprintf(stderr, "goroutine %llu [running]:\n", static_cast<unsigned long long>(g->id));
  } else {
    std::fprintf(stderr, "thread [running]:\n");
  }
  std::vector<std::uintptr_t> pcs = diag::capture_stack(skip + 1);
  if (from_throw) skip_to_throw_site(pcs);
  diag::write_traceback(stderr, pcs);
  if (g) diag::write_created_by(stderr, g->create_pc, g->parent_id);
  std::fflush(stderr);
  std::_Exit(2);
}

}  // namespace

void throw_panic(const char* message) { crash("panic", message, 1); }

void fatal(const char* message) { crash("fatal error", message, 1); }

namespace {

std::terminate_handler g_previous_terminate = nullptr;

std::string describe_current_exception() {
  std::exception_ptr e = std::current_exception();
  if (!e) return "std::terminate called without an active exception";
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
    return "unknown C++ exception (not derived from std::exception)";
  }
}

// An exception that no frame of a goroutine catches ends the search at the bottom of the
// goroutine's stack, so std::terminate runs with the throwing frames still in place: report
// them as Go reports a panic's stack.
void on_terminate() {
  if (!current_g()) {
    if (g_previous_terminate) g_previous_terminate();
    std::abort();
  }
  crash("panic", describe_current_exception(), 1, /*from_throw=*/true);
}

}  // namespace

void install_terminate_handler() {
  static std::once_flag once;
  std::call_once(once, [] { g_previous_terminate = std::set_terminate(on_terminate); });
}

}  // namespace gocxx::detail

namespace gocxx {

void panic(std::string_view message) { detail::crash("panic", std::string(message), 1); }

}  // namespace gocxx

// The diag layer's side of the runtime's hook table (runtime/hooks.hpp): constant-initialized,
// so it is complete before any code runs. The runtime refers to g_hooks, so this file, and
// through it every diagnostic the hooks reach, is always linked.
#include "runtime/hooks.hpp"

#include "diag/crash.hpp"
#include "diag/sigquit.hpp"
#include "diag/trace.hpp"
#include "diag/watchdog.hpp"

namespace gocxx::diag {
namespace {

void run_setup() {
  install_sigquit_from_env();
  start_watchdog_from_env();
}

}  // namespace
}  // namespace gocxx::diag

namespace gocxx::detail {

constinit const Hooks g_hooks = {
    .trace_go_create = diag::trace_go_create,
    .trace_go_start = diag::trace_go_start,
    .trace_go_stop = diag::trace_go_stop,
    .trace_go_unblock = diag::trace_go_unblock,
    .trace_long_run = diag::trace_long_run,
    .run_setup = diag::run_setup,
    .run_begin = diag::trace_run_begin,  // GOCXX_TRACE
    .run_end = diag::trace_run_end,      // a trace covers at most one run
    .crash = diag::crash,
    .crash_with_dump = diag::crash_with_dump,
    .crash_after_fault = diag::crash_after_fault,
};

}  // namespace gocxx::detail

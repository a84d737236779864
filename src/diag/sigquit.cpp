// SIGQUIT: Go's "dump every goroutine and exit 2". Nothing a dump needs (symbolization,
// allocation, locks) is async-signal-safe, so the handler only wakes a thread that waits for
// it; that thread writes the dump and exits the process.
#include <signal.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>

#include "diag/sigquit.hpp"
#include "gocxx/debug.hpp"
#include "runtime/futex.hpp"
#include "runtime/scheduler.hpp"

namespace gocxx::diag {

namespace {

std::atomic<std::uint32_t> g_quit_requested{0};

void on_sigquit(int) {
  g_quit_requested.store(1, std::memory_order_release);
  detail::futex_wake(g_quit_requested, 1);  // a raw syscall: async-signal-safe
}

void start_dump_thread() {
  static std::once_flag once;
  std::call_once(once, [] {
    detail::start_internal_thread([] {
      while (g_quit_requested.load(std::memory_order_acquire) == 0) {
        detail::futex_wait(g_quit_requested, 0);
      }
      detail::fatal_with_dump("SIGQUIT: quit");
    }).detach();
  });
}

}  // namespace

void install_sigquit_from_env() {
  // An ignored SIGQUIT at the first run is inherited (`prog &` from a non-interactive shell
  // ignores it): Go installs its handler anyway, and keeps an inherited ignore only for SIGHUP
  // and SIGINT. An ignore set later, between runs, is the program's own and stays.
  static std::atomic<bool> first_run{true};
  const bool inherited = first_run.exchange(false);
  const char* env = std::getenv("GOCXX_SIGQUIT");
  if (env && std::strcmp(env, "0") == 0) return;
  struct sigaction current {};
  if (sigaction(SIGQUIT, nullptr, &current) != 0 || current.sa_handler == on_sigquit) return;
  if (!(current.sa_flags & SA_SIGINFO) &&
      (current.sa_handler == SIG_DFL || (inherited && current.sa_handler == SIG_IGN))) {
    debug::handle_sigquit(true);
  }
}

}  // namespace gocxx::diag

namespace gocxx::debug {

void handle_sigquit(bool enable) {
  struct sigaction action {};
  sigemptyset(&action.sa_mask);
  if (enable) {
    diag::start_dump_thread();
    action.sa_handler = diag::on_sigquit;
    action.sa_flags = SA_RESTART;
  } else {
    action.sa_handler = SIG_DFL;
  }
  sigaction(SIGQUIT, &action, nullptr);
}

}  // namespace gocxx::debug

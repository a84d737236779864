// Deadlock detection (Go's checkdead) and gocxx's own threads: the count of internal threads,
// compared with the process's threads from /proc/self/stat; thread creation failures; fork
// without exec.
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "scheduler.hpp"
#include "timer.hpp"

namespace gocxx::detail {

namespace {

std::atomic<int> g_internal_threads{0};

// ThreadSanitizer runs a background thread of its own in every process.
#ifdef GOCXX_TSAN
constexpr int kSanitizerThreads = 1;
#else
constexpr int kSanitizerThreads = 0;
#endif

int process_threads() {
  // Field 20 of /proc/self/stat; the command name before it may contain spaces, so count
  // from the closing parenthesis.
  char buf[1024];
  int fd = ::open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return -1;
  buf[n] = '\0';
  const char* p = std::strrchr(buf, ')');
  for (int field = 2; p && field < 20; ++field) p = std::strchr(p + 1, ' ');
  return p ? std::atoi(p + 1) : -1;
}

}  // namespace

// Called by the last M to go idle, with no goroutine queued. The program is deadlocked if
// nothing can ever make a goroutine runnable again: no timer pending (sleep, Timer, Ticker,
// after_func), no M inside blocking() (they are not idle), and no thread in the process that
// is not gocxx's own (a plain thread could still send or close). Timers are checked without
// rt->lock (the timer thread takes it while firing), so the verdict is confirmed afterwards:
// any M woken or G queued meanwhile cancels it.
//
// Returns true if the verdict depends only on threads that are not gocxx's own (a foreign
// thread may exit later, or one of gocxx's own is just exiting) or on a timer that is firing:
// the caller asks again.
bool deadlock_undecided(Runtime* rt, std::uint64_t wakeups_seen) {
  // A timer that will fire later wakes a goroutine then (and that M checks again when it goes
  // idle). One that is due may be firing right now: the count includes it until the timer
  // thread publishes after the fire, by which time its goroutine may have run and blocked for
  // good, with this M the last to go idle. Ask again shortly rather than never.
  if (time::detail::timers_pending() != 0) return time::detail::timer_due();
  const bool foreign_threads =
      process_threads() != g_internal_threads.load() + kSanitizerThreads;
  std::unique_lock lk(rt->lock);
  if (rt->stopping.load(std::memory_order_relaxed) || rt->m_wakeups != wakeups_seen ||
      rt->nmidle != static_cast<int>(rt->ms.size()) ||
      rt->global_size.load(std::memory_order_relaxed) != 0 ||
      rt->main_done.load(std::memory_order_relaxed) != 0) {
    return false;
  }
  if (foreign_threads) return true;
  // Dumped without rt->lock: the dump takes g_runtime_lock (live_generation), which ranks
  // before Runtime::lock (lockrank.hpp). The verdict stands; nothing can change it now.
  lk.unlock();
  fatal_with_dump("fatal error: all goroutines are asleep - deadlock!");
}


void count_internal_threads(int delta) { g_internal_threads.fetch_add(delta); }

void thread_creation_failed(int error) {
  std::fprintf(stderr,
               "runtime: failed to create new OS thread (have %d already; errno=%d)\n"
               "runtime: may need to increase max user processes (ulimit -u)\n",
               process_threads(), error);
  fatal("newosproc");
}

// fork() without exec (scheduler.hpp): only the forking thread lives on in the child. If gocxx
// had threads of its own then (a run's, the timer or SIGQUIT thread), the runtime describes
// threads that are gone, so the child fails loudly at its first use of it instead of hanging.
std::atomic<bool> g_forked_child{false};
[[maybe_unused]] static const int g_atfork_registered = pthread_atfork(nullptr, nullptr, [] {
  if (g_internal_threads.load(std::memory_order_relaxed) > 0) g_forked_child.store(true);
});

void fatal_forked_child() {
  static const char msg[] =
      "fatal error: gocxx: fork without exec: the runtime cannot run in a child process (its "
      "threads were not copied)\n";
  (void)!write(2, msg, sizeof msg - 1);
  _exit(2);
}

}  // namespace gocxx::detail

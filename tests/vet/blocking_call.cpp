// gocxx-blocking-call: golden input (blocking_call.clang-tidy adds app::slow_io to the list).
#include <gocxx/gocxx.hpp>

#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

using namespace std::chrono_literals;

namespace app {
int slow_io(int fd);
}  // namespace app

std::mutex mu;
std::condition_variable cv;
bool ready = false;

// Sleeps and locks of the standard library in goroutines; the fix-its replace the sleeps.
void bad_sleeps_and_locks() {
  gocxx::go([] {
    std::this_thread::sleep_for(10ms);
    std::lock_guard lock(mu);
    ready = true;
  });
  gocxx::go([] {
    std::unique_lock lock(mu);
    cv.wait(lock, [] { return ready; });
    ::usleep(100);
    if (::sleep(1)) return;  // its result is used: no fix-it (gocxx::time::sleep returns nothing)
  });
}

// System calls and futures: the fix-its wrap them in gocxx::blocking.
void bad_syscalls(int fd, std::future<int> answer) {
  gocxx::go([fd, answer = std::move(answer)]() mutable {
    char buf[64];
    ssize_t n = ::read(fd, buf, sizeof buf);
    int v = answer.get();
    (void)n;
    (void)v;
  });
}

// The main goroutine, and the option's extra entry, named without a replacement.
int bad_main_goroutine(int fd) {
  return gocxx::run([fd] { return app::slow_io(fd); });
}

// In gocxx::blocking, on a plain thread, outside goroutines, and with gocxx's own primitives.
void ok_cases(int fd) {
  gocxx::go([fd] {
    char buf[64];
    ssize_t n = gocxx::blocking([&] { return ::read(fd, buf, sizeof buf); });
    (void)n;
    gocxx::time::sleep(10ms);
    gocxx::sync::Mutex m;
    std::lock_guard lock(m);
    std::unique_lock deferred(mu, std::defer_lock);
  });
  std::thread([] { std::this_thread::sleep_for(1ms); }).join();
  std::this_thread::sleep_for(1ms);
}

// NOLINT is honoured.
void suppressed() {
  gocxx::go([] {
    std::this_thread::sleep_for(1ms);  // NOLINT(gocxx-blocking-call)
  });
}

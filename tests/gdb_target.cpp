// The program tests/gdb_test.sh debugs with tools/gdb/gocxx.py; built twice: gdb_target (with
// the build's debug info) and gdb_target_nodebug (none; plus a stripped copy, for the script's
// layout-table fallback). The main goroutine (1) starts
//   2  blocked sending on an unbuffered channel   (gdb_target::send_forever)
//   3  blocked in WaitGroup::wait                 (gdb_target::wait_forever)
//   4  a goroutine that starts 5, then exits      (dead: not listed)
//   5  sleeping for a day                         (gdb_target::sleep_forever), created in 4
// waits until each is parked for its reason, prints "gdb_target: ready", and calls
// gdb_target_ready(), where the debugger stops (still running goroutine 1). Without a debugger
// it just returns 0.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <gocxx/gocxx.hpp>

#include "runtime/registry.hpp"

using namespace std::chrono_literals;
using gocxx::detail::WaitReason;

// The debugger's breakpoint. Not inlined, and not optimized away.
extern "C" [[gnu::noinline]] void gdb_target_ready() { asm volatile("" ::: "memory"); }

namespace gdb_target {

[[gnu::noinline]] void send_forever(gocxx::Chan<int> ch) {
  ch.send(42);
  asm volatile("");  // keeps this frame: no tail call
}

[[gnu::noinline]] void wait_forever(gocxx::sync::WaitGroup* wg) {
  wg->wait();
  asm volatile("");
}

[[gnu::noinline]] void sleep_forever() {
  gocxx::time::sleep(24h);
  asm volatile("");
}

[[gnu::noinline]] gocxx::GoroutineId start_sender(gocxx::Chan<int> ch) {
  return gocxx::go(send_forever, ch);
}

[[gnu::noinline]] gocxx::GoroutineId start_waiter(gocxx::sync::WaitGroup* wg) {
  return gocxx::go(wait_forever, wg);
}

// Starts a goroutine that starts the sleeper: the sleeper's creator is goroutine 4.
[[gnu::noinline]] void start_sleeper(std::atomic<gocxx::GoroutineId>* id) {
  gocxx::go([id] { id->store(gocxx::go(sleep_forever), std::memory_order_release); });
}

struct Expect {
  gocxx::GoroutineId id;
  WaitReason reason;
  bool parked;
};

bool all_parked(Expect* expect, int n) {
  for (int i = 0; i < n; ++i) expect[i].parked = false;
  struct Arg {
    Expect* expect;
    int n;
  } arg{expect, n};
  gocxx::detail::registry_for_each(
      [](gocxx::detail::G* g, void* p) {
        auto* a = static_cast<Arg*>(p);
        auto status = g->status.load(std::memory_order_acquire) & ~gocxx::detail::kScanBit;
        for (int i = 0; i < a->n; ++i) {
          if (g->id == a->expect[i].id && status == gocxx::detail::kWaiting &&
              g->wait_reason.load(std::memory_order_acquire) == a->expect[i].reason) {
            a->expect[i].parked = true;
          }
        }
      },
      &arg);
  for (int i = 0; i < n; ++i) {
    if (!expect[i].parked) return false;
  }
  return true;
}

int main_goroutine() {
  gocxx::Chan<int> ch;  // unbuffered, never received from
  gocxx::sync::WaitGroup wg;
  wg.add(1);  // never done
  std::atomic<gocxx::GoroutineId> sleeper{0};
  Expect expect[3] = {{start_sender(ch), WaitReason::kChanSend, false},
                      {start_waiter(&wg), WaitReason::kSyncWaitGroupWait, false},
                      {0, WaitReason::kSleep, false}};
  start_sleeper(&sleeper);
  auto deadline = std::chrono::steady_clock::now() + 120s;  // a stuck runtime, not a slow one
  while ((expect[2].id = sleeper.load(std::memory_order_acquire)) == 0 || !all_parked(expect, 3)) {
    if (std::chrono::steady_clock::now() > deadline) {
      std::fprintf(stderr, "gdb_target: goroutines did not park\n");
      std::abort();
    }
    gocxx::time::sleep(1ms);
  }
  std::printf("gdb_target: ready sender=%llu waiter=%llu sleeper=%llu\n",
              static_cast<unsigned long long>(expect[0].id),
              static_cast<unsigned long long>(expect[1].id),
              static_cast<unsigned long long>(expect[2].id));
  std::fflush(stdout);
  gdb_target_ready();
  return 0;
}

}  // namespace gdb_target

int main() { return gocxx::run(gdb_target::main_goroutine); }

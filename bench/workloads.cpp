// gocxx side of the gocxx-vs-Go comparison (bench/compare). Each workload mirrors the Go
// function of the same name in bench/go/workloads.go; keep the two in step.
//
//   workloads <name> [target-ms]
//
// prints one or more machine-readable lines "<row> <unit> <value>".
#include <gocxx/debug.hpp>
#include <gocxx/gocxx.hpp>

#include "sizing.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>

namespace {

using Clock = std::chrono::steady_clock;
using bench::measure;
using bench::Nanos;

struct Empty {};

// ---- memory probes (same method as the Go side) ----------------------------------------------

// Resident pages (second field of /proc/self/statm) times the page size.
std::int64_t rss_bytes() {
  std::ifstream in("/proc/self/statm");
  std::int64_t size = 0, resident = 0;
  in >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

// The VmPTE line of /proc/self/status (page-table memory), in bytes.
std::int64_t pte_bytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmPTE:", 0) == 0) return std::strtoll(line.c_str() + 6, nullptr, 10) * 1024;
  }
  return 0;
}

// ---- workloads -------------------------------------------------------------------------------

// pingpong: n round trips over two unbuffered channels between main and one partner goroutine.
Nanos pingpong(std::int64_t n) {
  gocxx::Chan<int> ping, pong;
  gocxx::go([ping, pong]() mutable {
    for (int v : ping) pong.send(v);
  });
  auto start = Clock::now();
  for (std::int64_t i = 0; i < n; ++i) {
    ping.send(int(i));
    pong.recv();
  }
  auto d = Clock::now() - start;
  ping.close();
  return d;
}

constexpr std::int64_t kSpawnBatch = 100000;

// spawn_warm: n goroutines that each call wg.done(), spawned in batches of up to 100k; main
// spawns a whole batch, then waits for it.
Nanos spawn_warm(std::int64_t n) {
  gocxx::sync::WaitGroup wg;
  auto start = Clock::now();
  for (std::int64_t left = n; left > 0;) {
    std::int64_t b = left < kSpawnBatch ? left : kSpawnBatch;
    left -= b;
    wg.add(int(b));
    for (std::int64_t i = 0; i < b; ++i) gocxx::go([&wg] { wg.done(); });
    wg.wait();
  }
  return Clock::now() - start;
}

// spawn: the first 100k goroutines of the process (spawn_first: each made for the first time,
// since all are alive at once, parked on a gate until the last is spawned), then spawn_warm
// sized as usual, whose goroutines reuse those 100k (a batch never has more alive).
void spawn() {
  gocxx::sync::WaitGroup wg;
  gocxx::Chan<int> gate;
  auto start = Clock::now();
  wg.add(int(kSpawnBatch));
  for (std::int64_t i = 0; i < kSpawnBatch; ++i) {
    gocxx::go([&wg, gate]() mutable {
      (void)gate.recv();
      wg.done();
    });
  }
  gate.close();
  wg.wait();
  const double first = double(Nanos(Clock::now() - start).count()) / double(kSpawnBatch);
  std::printf("spawn_first ns/op %.1f\n", first);
  std::printf("spawn_warm ns/op %.1f\n", measure(spawn_warm));
}

// prodcons: one producer sends n ints, then closes; one consumer ranges over the channel.
auto prodcons(std::size_t capacity) {
  return [capacity](std::int64_t n) -> Nanos {
    gocxx::Chan<int> ch(capacity);
    gocxx::Chan<std::int64_t> done;
    auto start = Clock::now();
    gocxx::go([ch, n]() mutable {
      for (std::int64_t i = 0; i < n; ++i) ch.send(int(i));
      ch.close();
    });
    gocxx::go([ch, done]() mutable {
      std::int64_t sum = 0;
      for (int v : ch) sum += v;
      done.send(sum);
    });
    done.recv();
    return Clock::now() - start;
  };
}

// select2 / select2b16: two producers on unbuffered channels (capacity 16), n items in all;
// main selects over both.
auto select2(std::size_t capacity) {
  return [capacity](std::int64_t n) -> Nanos {
    gocxx::Chan<int> a(capacity), b(capacity);
    auto producer = [](gocxx::Chan<int> ch, std::int64_t count) {
      for (std::int64_t i = 0; i < count; ++i) ch.send(int(i));
    };
    auto start = Clock::now();
    gocxx::go(producer, a, n / 2);
    gocxx::go(producer, b, n - n / 2);
    std::int64_t sum = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      gocxx::select(gocxx::recv_case(a, [&](std::optional<int> v) { sum += *v; }),
                    gocxx::recv_case(b, [&](std::optional<int> v) { sum += *v; }));
    }
    auto d = Clock::now() - start;
    if (sum < 0) std::printf("%lld\n", (long long)sum);
    return d;
  };
}

// mutex8: 8 goroutines share n lock/counter++/unlock operations on one Mutex.
Nanos mutex8(std::int64_t n) {
  constexpr int kWorkers = 8;
  gocxx::sync::Mutex mu;
  gocxx::sync::WaitGroup wg;
  std::int64_t counter = 0;
  auto start = Clock::now();
  wg.add(kWorkers);
  for (int w = 0; w < kWorkers; ++w) {
    std::int64_t ops = n / kWorkers + (w < n % kWorkers ? 1 : 0);
    gocxx::go([&, ops] {
      for (std::int64_t i = 0; i < ops; ++i) {
        mu.lock();
        ++counter;
        mu.unlock();
      }
      wg.done();
    });
  }
  wg.wait();
  auto d = Clock::now() - start;
  if (counter != n) gocxx::panic("mutex8: lost updates");
  return d;
}

// wgadddone: procs() goroutines share n add(1)/done() pairs on one WaitGroup (like Go's
// BenchmarkWaitGroupAddDone under RunParallel).
Nanos wgadddone(std::int64_t n) {
  const int workers = gocxx::procs();
  gocxx::sync::WaitGroup wg, finished;
  auto start = Clock::now();
  finished.add(workers);
  for (int w = 0; w < workers; ++w) {
    std::int64_t ops = n / workers + (w < n % workers ? 1 : 0);
    gocxx::go([&, ops] {
      for (std::int64_t i = 0; i < ops; ++i) {
        wg.add(1);
        wg.done();
      }
      finished.done();
    });
  }
  finished.wait();
  return Clock::now() - start;
}

// Spawns count goroutines that each signal ready, then block receiving from gate and signal
// exited once released. Returns after all have signalled ready.
void parked(std::int64_t count, gocxx::Chan<Empty>& gate, gocxx::sync::WaitGroup& ready,
            gocxx::sync::WaitGroup& exited) {
  ready.add(int(count));
  exited.add(int(count));
  for (std::int64_t i = 0; i < count; ++i) {
    gocxx::go([&gate, &ready, &exited] {
      ready.done();
      gate.recv();
      exited.done();
    });
  }
  ready.wait();
}

// mem200k: RSS and page-table growth per parked goroutine.
void mem200k() {
  constexpr std::int64_t kCount = 200000;
  gocxx::Chan<Empty> gate;
  gocxx::sync::WaitGroup ready, exited;
  std::int64_t rss0 = rss_bytes(), pte0 = pte_bytes();
  parked(kCount, gate, ready, exited);
  gocxx::time::sleep(std::chrono::milliseconds(10));  // let the last ones reach the receive
  std::int64_t rss1 = rss_bytes(), pte1 = pte_bytes();
  gate.close();
  exited.wait();
  std::printf("mem200k B/goroutine %.1f\n", double(rss1 - rss0) / kCount);
  std::printf("mem200k_pte B/goroutine %.1f\n", double(pte1 - pte0) / kCount);
}

// park1m: spawn 1M goroutines that all park on one channel, close it, wait for all of them.
void park1m() {
  constexpr std::int64_t kCount = 1000000;
  gocxx::Chan<Empty> gate;
  gocxx::sync::WaitGroup ready, exited;
  std::int64_t rss0 = rss_bytes();
  auto start = Clock::now();
  parked(kCount, gate, ready, exited);
  std::int64_t rss1 = rss_bytes();
  gate.close();
  exited.wait();
  auto d = Nanos(Clock::now() - start);
  std::printf("park1m ns/goroutine %.1f\n", double(d.count()) / kCount);
  std::printf("park1m_rss B/goroutine %.1f\n", double(rss1 - rss0) / kCount);
}

// dump100k: 100k goroutines parked on a channel; time a full text dump (Go's debug=2) and a
// goroutine profile (profile.proto, gzipped) of them. Mirrors dump100k in workloads.go.
void dump100k() {
  constexpr std::int64_t kCount = 100000;
  gocxx::Chan<Empty> gate;
  gocxx::sync::WaitGroup ready, exited;
  parked(kCount, gate, ready, exited);
  gocxx::time::sleep(std::chrono::milliseconds(10));  // let the last ones reach the receive
  auto time_ms = [](auto write) {
    std::ostringstream out;
    auto start = Clock::now();
    write(out);
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  };
  double text = time_ms([](std::ostream& out) { gocxx::debug::write_goroutines(out, 2); });
  double profile = time_ms([](std::ostream& out) { gocxx::debug::write_goroutine_profile(out); });
  gate.close();
  exited.wait();
  std::printf("dump100k_text ms %.1f\n", text);
  std::printf("dump100k_profile ms %.1f\n", profile);
}

// ---- defer cost (section 3.3 of the article this project started from) ------------------------
// One call per op to a non-inlined function whose body defers one call of each form. Mirrors
// deferNoArg/deferArg/deferClosure in workloads.go.

std::int64_t g_sink = 0;
[[gnu::noinline]] void bump() { ++g_sink; }
[[gnu::noinline]] void add(std::int64_t v) { g_sink += v; }

[[gnu::noinline]] void defer_noarg_once() {
  gocxx::func([](gocxx::Defer& defer) { defer(bump); });
}
[[gnu::noinline]] void defer_arg_once(std::int64_t i) {
  gocxx::func([i](gocxx::Defer& defer) { defer(add, i); });
}
[[gnu::noinline]] void defer_closure_once(std::int64_t i) {
  gocxx::func([i](gocxx::Defer& defer) { defer([i] { g_sink += i; }); });
}

template <class F>
Nanos time_calls(std::int64_t n, F call) {
  auto start = Clock::now();
  for (std::int64_t i = 0; i < n; ++i) call(i);
  return Nanos(Clock::now() - start);
}
Nanos defernoarg(std::int64_t n) { return time_calls(n, [](std::int64_t) { defer_noarg_once(); }); }
Nanos deferarg(std::int64_t n) { return time_calls(n, defer_arg_once); }
Nanos deferclosure(std::int64_t n) { return time_calls(n, defer_closure_once); }

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: workloads <pingpong|spawn|prodcons0|prodcons100|select2|select2b16|mutex8|"
                 "wgadddone|defernoarg|deferarg|deferclosure|mem200k|park1m|dump100k> [target-ms]\n");
    return 2;
  }
  if (argc > 2) bench::set_target_from_arg(argv[2]);
  const std::string name = argv[1];
  const std::map<std::string, std::function<Nanos(std::int64_t)>> timed{
      {"pingpong", pingpong},   {"prodcons0", prodcons(0)},
      {"prodcons100", prodcons(100)}, {"select2", select2(0)}, {"select2b16", select2(16)}, {"mutex8", mutex8},
      {"wgadddone", wgadddone},
      {"defernoarg", defernoarg}, {"deferarg", deferarg},   {"deferclosure", deferclosure},
  };
  if (auto it = timed.find(name); it != timed.end()) {
    double ns = 0;
    gocxx::run([&] { ns = measure(it->second); });
    std::printf("%s ns/op %.1f\n", name.c_str(), ns);
  } else if (name == "spawn") {
    gocxx::run(spawn);
  } else if (name == "mem200k") {
    gocxx::run(mem200k);
  } else if (name == "park1m") {
    gocxx::run(park1m);
  } else if (name == "dump100k") {
    gocxx::run(dump100k);
  } else {
    std::fprintf(stderr, "unknown workload: %s\n", name.c_str());
    return 2;
  }
  std::fflush(stdout);
  return 0;
}

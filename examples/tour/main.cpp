// A tour of gocxx: a worker pool, a pipeline, select with a timeout, and 100k goroutines.
// Each part prints what it did and how long it took.
#include <chrono>
#include <cstdio>
#include <gocxx/gocxx.hpp>
#include <string>

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Eight workers square numbers from a jobs channel; results are summed.
void worker_pool() {
  auto start = Clock::now();
  gocxx::Chan<int> jobs(100);
  gocxx::Chan<long> results;
  gocxx::sync::WaitGroup wg;
  for (int w = 0; w < 8; ++w) {
    wg.add(1);
    gocxx::go([&] {
      for (int j : jobs) results.send(long(j) * j);
      wg.done();
    });
  }
  gocxx::go([&] {
    for (int i = 1; i <= 10000; ++i) jobs.send(i);
    jobs.close();
  });
  gocxx::go([&] {
    wg.wait();
    results.close();
  });
  long sum = 0;
  for (long r : results) sum += r;
  std::printf("worker pool : 8 workers squared 1..10000, sum %ld            (%.1f ms)\n", sum,
              ms_since(start));
}

// generate -> filter odd -> format, each stage a goroutine connected by channels.
void pipeline() {
  auto start = Clock::now();
  gocxx::Chan<int> numbers(16);
  gocxx::Chan<int> odds(16);
  gocxx::Chan<std::string> lines(16);
  gocxx::go([numbers]() mutable {
    for (int i = 0; i < 100000; ++i) numbers.send(i);
    numbers.close();
  });
  gocxx::go([numbers, odds]() mutable {
    for (int n : numbers) {
      if (n % 2) odds.send(n);
    }
    odds.close();
  });
  gocxx::go([odds, lines]() mutable {
    for (int n : odds) lines.send("odd " + std::to_string(n));
    lines.close();
  });
  std::size_t count = 0;
  std::string last;
  for (auto& line : lines) {
    ++count;
    last = line;
  }
  std::printf("pipeline    : 3 stages passed %zu values, last \"%s\"   (%.1f ms)\n", count,
              last.c_str(), ms_since(start));
}

// A slow producer raced against a timeout with select.
void select_with_timeout() {
  auto start = Clock::now();
  gocxx::Chan<std::string> slow;
  gocxx::go([slow]() mutable {
    gocxx::time::sleep(200ms);
    gocxx::select(gocxx::send_case(slow, std::string("too late")), gocxx::default_case());
  });
  std::string outcome;
  gocxx::select(
      gocxx::recv_case(slow, [&](std::optional<std::string> v) { outcome = v.value_or("closed"); }),
      gocxx::recv_case(gocxx::time::after(50ms), [&] { outcome = "timed out after 50 ms"; }));
  std::printf("select      : slow producer vs time::after(50ms): %s    (%.1f ms)\n",
              outcome.c_str(), ms_since(start));
}

// 100k goroutines parked at once, then released by closing one channel.
void hundred_thousand() {
  auto start = Clock::now();
  constexpr int kCount = 100000;
  gocxx::Chan<int> gate;
  gocxx::sync::WaitGroup parked, finished;
  parked.add(kCount);
  finished.add(kCount);
  for (int i = 0; i < kCount; ++i) {
    gocxx::go([&] {
      parked.done();
      gate.recv();  // parks until the close below
      finished.done();
    });
  }
  parked.wait();
  int alive = gocxx::num_goroutine();
  double spawn_ms = ms_since(start);
  gate.close();
  finished.wait();
  std::printf("100k        : spawned %d goroutines (%d alive at peak) in %.1f ms, all done   "
              "(%.1f ms)\n",
              kCount, alive, spawn_ms, ms_since(start));
}

}  // namespace

int main() {
  auto start = Clock::now();
  int procs = 0;
  gocxx::run([&] {
    procs = gocxx::procs();
    worker_pool();
    pipeline();
    select_with_timeout();
    hundred_thousand();
  });
  std::printf("tour done on %d Ps in %.1f ms\n", procs, ms_since(start));
}

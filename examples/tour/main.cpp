// A tour of gocxx: a worker pool, a pipeline, select with a timeout, 100k goroutines, and a
// TCP echo server with its clients. Each part prints what it did and how long it took.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <gocxx/gocxx.hpp>
#include <gocxx/net.hpp>
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

// A goroutine-per-connection echo server on loopback, and 100 clients doing 100 round trips
// each. Every blocked read parks its goroutine on the network poller ("IO wait").
void echo_server() {
  namespace net = gocxx::net;
  auto start = Clock::now();
  auto [ln, err] = net::listen("tcp", "127.0.0.1:0");
  if (err) {
    std::printf("echo        : %s\n", err.message().c_str());
    return;
  }
  gocxx::go([ln = ln]() mutable {
    for (;;) {
      auto [conn, err] = ln.accept();
      if (err) return;  // net::err_closed once main closes the listener
      gocxx::go([c = std::move(conn)]() mutable {
        char buf[4096];
        for (;;) {
          auto [n, err] = c.read(buf);
          if (err || c.write({buf, n}).err) return;  // io::eof when the client hangs up
        }
      });
    }
  });
  constexpr int kClients = 100, kRounds = 100;
  gocxx::sync::WaitGroup wg;
  std::atomic<int> ok{0};
  wg.add(kClients);
  for (int i = 0; i < kClients; ++i) {
    gocxx::go([&, addr = ln.addr().string()] {
      auto [c, err] = net::dial("tcp", addr);
      for (int r = 0; !err && r < kRounds; ++r) {
        char reply[5];
        err = c.write("ping!").err;
        if (!err) err = gocxx::io::read_full(c, reply).err;
        if (!err && r == kRounds - 1) ok.fetch_add(1);
      }
      wg.done();
    });  // c closes when its last handle goes
  }
  wg.wait();
  (void)ln.close();
  std::printf("echo        : %d clients x %d round trips over TCP, %d completed          (%.1f ms)\n",
              kClients, kRounds, ok.load(), ms_since(start));
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
    echo_server();
  });
  std::printf("tour done on %d Ps in %.1f ms\n", procs, ms_since(start));
}

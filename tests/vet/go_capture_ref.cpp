// gocxx-go-capture-ref: golden input. Each function is a case; "bad" ones must be reported,
// "ok" ones must not.
#include <gocxx/gocxx.hpp>

#include <cstdio>
#include <vector>

// loopclosure: every goroutine shares `i`, which the loop keeps changing, even though the
// WaitGroup joins them after the loop.
void bad_for_loop_variable() {
  gocxx::sync::WaitGroup wg;
  for (int i = 0; i < 3; ++i) {
    wg.add(1);
    gocxx::go([&] {
      std::printf("%d\n", i);
      wg.done();
    });
  }
  wg.wait();
}

// loopclosure, explicit capture: `v` dies at the end of each iteration.
void bad_range_for_variable(const std::vector<int>& values) {
  gocxx::Chan<int> out(values.size());
  for (int v : values) {
    gocxx::go([&v, out]() mutable { out.send(v * 2); });
  }
  for (std::size_t i = 0; i < values.size(); ++i) out.recv();
}

// A local that the goroutine may outlive: nothing joins it; the goroutine changes `hits`, so
// there is no fix-it for it, and `done` is a handle: copied, with `mutable`.
void bad_local_not_joined() {
  int hits = 0;
  gocxx::Chan<int> done(1);
  gocxx::go([&] {
    ++hits;
    done.send(hits);
  });
}

// A parameter, captured explicitly, in an errgroup goroutine the function never waits for.
void bad_parameter(gocxx::errgroup::Group& g, int n) {
  g.go([&n]() -> gocxx::error {
    std::printf("%d\n", n);
    return nullptr;
  });
}

// A member loop variable read through `this` (examples/leakhunt's third leak).
struct Notifier {
  int next = 0;
  void deliver(int) {}
  void notify_all() {
    for (next = 0; next < 4; ++next) {
      gocxx::go([this] { deliver(next); });
    }
  }
};

// A WaitGroup cannot be copied: reported without a fix-it.
void bad_not_copyable() {
  gocxx::sync::WaitGroup wg;
  wg.add(1);
  gocxx::time::after_func(std::chrono::milliseconds(1), [&] { wg.done(); });
}

// Joined by a WaitGroup that every goroutine signals.
void ok_waitgroup() {
  std::vector<int> results(4);
  gocxx::sync::WaitGroup wg;
  for (int w = 0; w < 4; ++w) {
    wg.add(1);
    gocxx::go([&results, &wg, w] {
      results[w] = w * w;
      wg.done();
    });
  }
  wg.wait();
}

// Joined by the errgroup's wait.
gocxx::error ok_errgroup(const std::vector<int>& tasks) {
  int base = 10;
  gocxx::errgroup::Group g;
  for (int t : tasks) {
    g.go([&base, t]() -> gocxx::error {
      std::printf("%d\n", base + t);
      return nullptr;
    });
  }
  return g.wait();
}

// Joined by a receive from the channel the goroutine sends on.
int ok_channel_receive() {
  int x = 41;
  gocxx::Chan<int> result;
  gocxx::go([&] { result.send(x + 1); });
  return *result.recv();
}

// The README's pipeline: the workers are joined by the range over `results`, the closer by the
// same range, and the feeder through the workers' range over `jobs` (one step of
// transitivity).
long ok_pipeline() {
  gocxx::Chan<int> jobs(100), results;
  gocxx::sync::WaitGroup wg;
  for (int w = 0; w < 8; ++w) {
    wg.add(1);
    gocxx::go([&] {
      for (int j : jobs) results.send(j * 2);
      wg.done();
    });
  }
  gocxx::go([&] {
    for (int i = 0; i < 1000; ++i) jobs.send(i);
    jobs.close();
  });
  gocxx::go([&] {
    wg.wait();
    results.close();
  });
  long sum = 0;
  for (int r : results) sum += r;
  return sum;
}

// A flag the goroutine writes last, waited for by a loop.
void ok_flag() {
  std::atomic<bool> finished{false};
  gocxx::go([&] { finished = true; });
  while (!finished) gocxx::yield();
}

// Joined within the iteration: the loop variable does not change under the goroutine.
void ok_loop_variable_joined_per_iteration() {
  for (int i = 0; i < 3; ++i) {
    gocxx::Chan<int> done;
    gocxx::go([&] { done.send(i); });
    done.recv();
  }
}

// By value: nothing to report.
void ok_by_value() {
  for (int i = 0; i < 3; ++i) gocxx::go([i] { std::printf("%d\n", i); });
}

// A return between the spawn and the join leaves the goroutine running: reported.
void bad_return_before_join(bool early) {
  gocxx::sync::WaitGroup wg;
  int x = 0;
  wg.add(1);
  gocxx::go([&x, &wg] {
    x = 1;
    wg.done();
  });
  if (early) return;
  wg.wait();
}

// NOLINT is honoured.
void suppressed() {
  int x = 0;
  gocxx::go([&x] { std::printf("%d\n", x); });  // NOLINT(gocxx-go-capture-ref): test of NOLINT
}

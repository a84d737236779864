// Scheduler fairness: a goroutine that waits in the global run queue (woken by a timer or a
// plain thread, yielded, back from blocking()) or in a P's ring runs within a bounded number
// of scheduling rounds, even while ping-pong pairs keep every P busy handing runnext back and
// forth. gocxx has no preemption, so these hang forever if the fairness turn is wrong.
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "test_util.hpp"

namespace {

using namespace std::chrono_literals;
using gocxx::Chan;
using gocxx::test::expect_returns;

// One busy ping-pong pair per P: each hand-off readies the partner into runnext.
class PingPongPairs {
 public:
  explicit PingPongPairs(int pairs) {
    for (int i = 0; i < pairs; ++i) {
      Chan<int> a, b;
      wg_.add(2);
      gocxx::go([this, a, b]() mutable {
        for (;;) {
          bool last = stop_.load(std::memory_order_relaxed);
          a.send(last ? 0 : 1);  // 0 tells the partner to stop too
          if (last) break;
          b.recv();
        }
        wg_.done();
      });
      gocxx::go([this, a, b]() mutable {
        while (a.recv() == 1) b.send(1);
        wg_.done();
      });
    }
  }
  // Stops the pairs and waits for them.
  void stop() {
    stop_.store(true, std::memory_order_relaxed);
    wg_.wait();
  }

 private:
  std::atomic<bool> stop_{false};
  gocxx::sync::WaitGroup wg_;
};

class Fairness : public ::testing::TestWithParam<int> {
 protected:
  // Runs `body` as main on GetParam() Ps, beside one busy pair per P.
  template <class F>
  void beside_busy_pairs(const char* what, F body) {
    int procs = GetParam();
    bool returned = false;
    expect_returns(
        [&] {
          gocxx::test::run_with(procs, [&] {
            PingPongPairs pairs(procs);
            body();
            returned = true;
            pairs.stop();
          });
        },
        what);
    EXPECT_TRUE(returned);
  }
};

TEST_P(Fairness, SleepingMainWakesUp) {
  beside_busy_pairs("time::sleep beside busy pairs", [] { gocxx::time::sleep(10ms); });
}

TEST_P(Fairness, YieldingMainRunsAgain) {
  beside_busy_pairs("yield beside busy pairs", [] {
    for (int i = 0; i < 100; ++i) gocxx::yield();
  });
}

TEST_P(Fairness, TimerChannelWakesMain) {
  beside_busy_pairs("time::after beside busy pairs", [] {
    EXPECT_TRUE(gocxx::time::after(10ms).recv().has_value());
  });
}

TEST_P(Fairness, AfterFuncGoroutineRuns) {
  beside_busy_pairs("after_func beside busy pairs", [] {
    Chan<int> fired(1);
    auto t = gocxx::time::after_func(1ms, [fired]() mutable { fired.send(7); });
    EXPECT_EQ(fired.recv(), 7);
  });
}

TEST_P(Fairness, BlockingCallReturns) {
  beside_busy_pairs("blocking() beside busy pairs", [] {
    int n = 0;
    for (int i = 0; i < 10; ++i) {
      gocxx::blocking([&] {
        std::this_thread::sleep_for(1ms);
        ++n;
      });
    }
    EXPECT_EQ(n, 10);
  });
}

TEST_P(Fairness, PlainThreadWakesMain) {
  beside_busy_pairs("a plain thread's send beside busy pairs", [] {
    Chan<std::string> c;
    std::thread t([c]() mutable { c.send("from a plain thread"); });
    EXPECT_EQ(c.recv(), "from a plain thread");
    gocxx::test::join(t);
  });
}

// Goroutines spawned while the pairs run wait in the ring behind runnext; the first one
// spawned is kicked out of runnext by the next, and only the fairness turn reaches it.
TEST_P(Fairness, SpawnedGoroutinesInTheRingRun) {
  beside_busy_pairs("spawned goroutines beside busy pairs", [] {
    constexpr int kSpawned = 8;
    Chan<int> done;
    for (int i = 0; i < kSpawned; ++i) gocxx::go([done, i]() mutable { done.send(i); });
    int sum = 0;
    for (int i = 0; i < kSpawned; ++i) sum += *done.recv();
    EXPECT_EQ(sum, kSpawned * (kSpawned - 1) / 2);
  });
}

INSTANTIATE_TEST_SUITE_P(Procs, Fairness, ::testing::Values(1, 2, 4),
                         [](const auto& info) { return "procs" + std::to_string(info.param); });

}  // namespace

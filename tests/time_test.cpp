#include "test_util.hpp"

// Tests for gocxx::time: sleep, after, Timer, Ticker, after_func. The behaviours follow Go's
// time package tests (sleep, after, timers, tickers) with Go 1.23 timer-channel semantics.
//
// Timing checks are lower bounds only (a timer never fires early); nothing asserts that
// something happened quickly. Sleeps only make an interleaving likely, or give a wrong extra
// delivery the time to show.

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace {

using namespace std::chrono_literals;
using gocxx::Chan;
using gocxx::RecvChan;
using gocxx::go;
using gocxx::test::run_with;
using gocxx::test::join;
using gocxx::test::scaled;
using gocxx::time::Clock;
using gocxx::time::Ticker;
using gocxx::time::Timer;
using gocxx::time::TimePoint;

// Go's time.After, Timer.C and Ticker.C are receive-only channels (<-chan Time).
static_assert(std::is_same_v<decltype(gocxx::time::after(1ms)), RecvChan<TimePoint>>);
static_assert(std::is_same_v<decltype(std::declval<const Timer&>().c()), RecvChan<TimePoint>>);
static_assert(std::is_same_v<decltype(std::declval<const Ticker&>().c()), RecvChan<TimePoint>>);

// Non-blocking receive: true if a value was taken from c right now (or c is closed).
template <class T>
bool ready_now(RecvChan<T> c) {
  bool got = false;
  gocxx::select(gocxx::recv_case(std::move(c), [&] { got = true; }), gocxx::default_case());
  return got;
}

// Waits (without receiving) until the timer has delivered its value into its channel.
void wait_until_buffered(const RecvChan<TimePoint>& c) {
  while (c.len() == 0) gocxx::time::sleep(500us);
}


class SleepP : public ::testing::TestWithParam<int> {};
class AfterP : public ::testing::TestWithParam<int> {};
class TimerP : public ::testing::TestWithParam<int> {};
class TickerP : public ::testing::TestWithParam<int> {};
class AfterFuncP : public ::testing::TestWithParam<int> {};

// ---- sleep --------------------------------------------------------------------------------

TEST_P(SleepP, SleepsAtLeastTheDuration) {
  run_with(GetParam(), [] {
    for (auto d : {1ms, 5ms, 20ms}) {
      auto start = Clock::now();
      gocxx::time::sleep(d);
      EXPECT_GE(Clock::now() - start, d);
    }
    auto start = Clock::now();
    gocxx::time::sleep(1500us);
    EXPECT_GE(Clock::now() - start, 1500us);
  });
}

TEST_P(SleepP, ZeroAndNegativeReturn) {
  run_with(GetParam(), [] {
    gocxx::time::sleep(0ms);
    gocxx::time::sleep(-5ms);
    gocxx::time::sleep(std::chrono::hours(-1));
    // Also from another goroutine, which must then finish.
    Chan<bool> done(1);
    go([&] {
      gocxx::time::sleep(0ns);
      gocxx::time::sleep(-1ns);
      done.send(true);
    });
    EXPECT_EQ(done.recv(), std::optional<bool>(true));
  });
}

// Many goroutines sleep at once; every one wakes, none early.
TEST_P(SleepP, ManyConcurrentSleepers) {
  run_with(GetParam(), [] {
    const int kN = 200;
    std::vector<char> ok(kN, 0);
    gocxx::sync::WaitGroup wg;
    wg.add(kN);
    for (int i = 0; i < kN; ++i) {
      go([&, i] {
        auto d = std::chrono::microseconds(500 + 97 * (i % 37));  // 0.5 .. ~4 ms
        auto start = Clock::now();
        gocxx::time::sleep(d);
        ok[i] = Clock::now() - start >= d;
        wg.done();
      });
    }
    wg.wait();
    for (int i = 0; i < kN; ++i) EXPECT_TRUE(ok[i]) << "sleeper " << i << " woke early";
  });
}

// A sleeping goroutine does not hold its P: on one P, others make progress meanwhile.
TEST_P(SleepP, SleeperDoesNotBlockOthers) {
  run_with(GetParam(), [] {
    Chan<int> progress(100);
    Chan<bool> sleeper_done(1);
    go([&] {
      gocxx::time::sleep(20ms);
      sleeper_done.send(true);
    });
    go([&] {
      for (int i = 0; i < 100; ++i) progress.send(i);
    });
    for (int i = 0; i < 100; ++i) EXPECT_EQ(progress.recv(), std::optional<int>(i));
    sleeper_done.recv();
  });
}

TEST_P(SleepP, PlainThread) {
  run_with(GetParam(), [] {
    std::chrono::nanoseconds elapsed{};
    std::thread t([&] {
      EXPECT_EQ(gocxx::goroutine_id(), 0u);
      auto start = Clock::now();
      gocxx::time::sleep(5ms);
      elapsed = Clock::now() - start;
      gocxx::time::sleep(0ms);
      gocxx::time::sleep(-1ms);
    });
    join(t);
    EXPECT_GE(elapsed, 5ms);
  });
}

TEST(SleepTest, OutsideRun) {
  auto start = Clock::now();
  gocxx::time::sleep(3ms);
  EXPECT_GE(Clock::now() - start, 3ms);
}

INSTANTIATE_TEST_SUITE_P(Procs, SleepP, ::testing::Values(1, 2, 4));

// ---- after --------------------------------------------------------------------------------

// after(d) delivers exactly one value, a time point no earlier than start + d.
TEST_P(AfterP, DeliversOneValueNotEarly) {
  run_with(GetParam(), [] {
    auto start = Clock::now();
    auto ch = gocxx::time::after(5ms);
    auto v = ch.recv();
    auto got = Clock::now();
    ASSERT_TRUE(v.has_value());
    EXPECT_GE(*v, start + 5ms);
    EXPECT_LE(*v, got);  // the value is the time of firing, before we received it
    gocxx::time::sleep(10ms);
    EXPECT_FALSE(ready_now(ch)) << "after() delivered a second value";
  });
}

TEST_P(AfterP, ZeroAndNegativeFire) {
  run_with(GetParam(), [] {
    auto start = Clock::now();
    auto v1 = gocxx::time::after(0ms).recv();
    auto v2 = gocxx::time::after(-3ms).recv();
    ASSERT_TRUE(v1 && v2);
    EXPECT_GE(*v1, start);
    EXPECT_GE(*v2, start);
  });
}

// A temporary after() in select: the timeout pattern.
TEST_P(AfterP, TemporaryInSelect) {
  run_with(GetParam(), [] {
    auto start = Clock::now();
    std::optional<TimePoint> got;
    int chosen = gocxx::select(
        gocxx::recv_case(gocxx::time::after(1ms), [&](std::optional<TimePoint> v) { got = v; }));
    EXPECT_EQ(chosen, 0);
    ASSERT_TRUE(got.has_value());
    EXPECT_GE(*got, start + 1ms);
  });
}

// Go's timeout idiom: a channel that is never ready loses to time::after.
TEST_P(AfterP, TimeoutPattern) {
  run_with(GetParam(), [] {
    Chan<int> never;
    auto start = Clock::now();
    bool timed_out = false;
    int chosen = gocxx::select(
        gocxx::recv_case(never, [&](std::optional<int>) { ADD_FAILURE() << "never-ready chosen"; }),
        gocxx::recv_case(Chan<int>::nil(), [] { ADD_FAILURE() << "nil channel chosen"; }),
        gocxx::recv_case(gocxx::time::after(10ms), [&] { timed_out = true; }));
    EXPECT_EQ(chosen, 2);
    EXPECT_TRUE(timed_out);
    EXPECT_GE(Clock::now() - start, 10ms);

    // And a ready channel wins over a long timeout.
    Chan<int> ready(1);
    ready.send(7);
    int value = 0;
    chosen = gocxx::select(gocxx::recv_case(gocxx::time::after(1h), [] {}),
                           gocxx::recv_case(ready, [&](std::optional<int> v) { value = *v; }));
    EXPECT_EQ(chosen, 1);
    EXPECT_EQ(value, 7);
  });
}

// Many goroutines each wait on their own after(); all fire, none early.
TEST_P(AfterP, ManyConcurrent) {
  run_with(GetParam(), [] {
    const int kN = 100;
    std::vector<char> ok(kN, 0);
    gocxx::sync::WaitGroup wg;
    wg.add(kN);
    for (int i = 0; i < kN; ++i) {
      go([&, i] {
        auto d = std::chrono::microseconds(300 * (i % 10 + 1));
        auto start = Clock::now();
        auto v = gocxx::time::after(d).recv();
        ok[i] = v && *v >= start + d;
        wg.done();
      });
    }
    wg.wait();
    for (int i = 0; i < kN; ++i) EXPECT_TRUE(ok[i]) << i;
  });
}

// after() received from a plain thread.
TEST_P(AfterP, PlainThreadReceiver) {
  run_with(GetParam(), [] {
    std::optional<TimePoint> v;
    TimePoint start;
    std::thread t([&] {
      start = Clock::now();
      v = gocxx::time::after(3ms).recv();
    });
    join(t);
    ASSERT_TRUE(v.has_value());
    EXPECT_GE(*v, start + 3ms);
  });
}

INSTANTIATE_TEST_SUITE_P(Procs, AfterP, ::testing::Values(1, 2, 4));

// ---- Timer --------------------------------------------------------------------------------

TEST_P(TimerP, FiresOnce) {
  run_with(GetParam(), [] {
    auto start = Clock::now();
    Timer t(3ms);
    auto v = t.c().recv();
    ASSERT_TRUE(v.has_value());
    EXPECT_GE(*v, start + 3ms);
    gocxx::time::sleep(10ms);
    EXPECT_FALSE(ready_now(t.c())) << "timer fired twice";
    EXPECT_FALSE(t.stop());  // already fired and received
    EXPECT_FALSE(t.stop());
  });
}

// stop() before the deadline: true, and nothing is ever delivered.
TEST_P(TimerP, StopBeforeFire) {
  run_with(GetParam(), [] {
    Timer t(10ms);
    EXPECT_TRUE(t.stop());
    EXPECT_FALSE(t.stop());  // already stopped
    gocxx::time::sleep(25ms);
    EXPECT_FALSE(ready_now(t.c())) << "stopped timer delivered a value";
  });
}

// Go 1.23: once stop() returns, a value the timer already sent is gone too.
TEST_P(TimerP, StopAfterFireWithoutReceiveLeavesNothing) {
  run_with(GetParam(), [] {
    Timer t(1ms);
    wait_until_buffered(t.c());
    EXPECT_TRUE(t.stop());  // Go 1.23: the unreceived value counted as pending
    EXPECT_FALSE(ready_now(t.c())) << "stale value received after stop()";
    EXPECT_FALSE(t.stop());  // now it is really stopped
    gocxx::time::sleep(5ms);
    EXPECT_FALSE(ready_now(t.c()));
  });
}

// reset() on a pending timer: true, and it fires at the new deadline (not the old one).
TEST_P(TimerP, ResetPendingTimer) {
  run_with(GetParam(), [] {
    Timer t(1ms);
    auto before_reset = Clock::now();
    EXPECT_TRUE(t.reset(20ms));
    auto v = t.c().recv();
    ASSERT_TRUE(v.has_value());
    EXPECT_GE(*v, before_reset + 20ms);

    // Shortening works too.
    Timer u(std::chrono::hours(1));
    before_reset = Clock::now();
    EXPECT_TRUE(u.reset(2ms));
    v = u.c().recv();
    ASSERT_TRUE(v.has_value());
    EXPECT_GE(*v, before_reset + 2ms);
  });
}

TEST_P(TimerP, ResetAfterStop) {
  run_with(GetParam(), [] {
    Timer t(5ms);
    EXPECT_TRUE(t.stop());
    auto before_reset = Clock::now();
    EXPECT_FALSE(t.reset(3ms));  // it was not pending
    auto v = t.c().recv();
    ASSERT_TRUE(v.has_value());
    EXPECT_GE(*v, before_reset + 3ms);
    gocxx::time::sleep(10ms);
    EXPECT_FALSE(ready_now(t.c()));
  });
}

TEST_P(TimerP, ResetAfterFireAndReceive) {
  run_with(GetParam(), [] {
    Timer t(1ms);
    ASSERT_TRUE(t.c().recv().has_value());
    auto before_reset = Clock::now();
    EXPECT_FALSE(t.reset(2ms));
    auto v = t.c().recv();
    ASSERT_TRUE(v.has_value());
    EXPECT_GE(*v, before_reset + 2ms);
  });
}

// Go 1.23: the timer fired but nobody received; after reset() returns the old value is gone,
// and the next value is the new one.
TEST_P(TimerP, ResetDiscardsStaleValue) {
  run_with(GetParam(), [] {
    Timer t(1ms);
    wait_until_buffered(t.c());
    auto before_reset = Clock::now();
    t.reset(15ms);  // Go 1.23 reports true here, older Go false; only the channel state matters
    EXPECT_FALSE(ready_now(t.c())) << "stale value received after reset()";
    auto v = t.c().recv();
    ASSERT_TRUE(v.has_value());
    EXPECT_GE(*v, before_reset + 15ms) << "received the value from before reset()";
  });
}

// Destroying a Timer stops it: its channel (kept alive by a copy) never receives.
TEST_P(TimerP, DestructorStops) {
  run_with(GetParam(), [] {
    RecvChan<TimePoint> c = RecvChan<TimePoint>::nil();
    {
      Timer t(5ms);
      c = t.c();
    }
    gocxx::time::sleep(20ms);
    EXPECT_FALSE(ready_now(c)) << "destroyed timer fired";
  });
}

TEST_P(TimerP, MoveKeepsTimer) {
  run_with(GetParam(), [] {
    auto start = Clock::now();
    Timer a(3ms);
    Timer b(std::move(a));
    auto v = b.c().recv();
    ASSERT_TRUE(v.has_value());
    EXPECT_GE(*v, start + 3ms);

    // Move assignment: the assigned-to object takes the new timer; its old one stops when the
    // moved-from object goes away.
    RecvChan<TimePoint> old_chan = RecvChan<TimePoint>::nil();
    {
      Timer c(std::chrono::hours(1));
      old_chan = c.c();
      Timer d(2ms);
      start = Clock::now();
      c = std::move(d);
      v = c.c().recv();
      ASSERT_TRUE(v.has_value());
      EXPECT_FALSE(c.stop());
    }
    EXPECT_FALSE(ready_now(old_chan));
  });
}

// Zero and negative durations fire promptly.
TEST_P(TimerP, ZeroDuration) {
  run_with(GetParam(), [] {
    auto start = Clock::now();
    Timer t(0ms);
    auto v = t.c().recv();
    ASSERT_TRUE(v.has_value());
    EXPECT_GE(*v, start);
    Timer u(-1ms);
    EXPECT_TRUE(u.c().recv().has_value());
  });
}

// Stop and reset race with firing from many goroutines. Whatever the interleaving, after stop()
// returns nothing can be received, and after reset() the next value is never a stale one.
TEST_P(TimerP, StopAndResetRaceWithFiring) {
  run_with(GetParam(), [] {
    const int kN = scaled(200);
    std::atomic<int> stale_after_stop{0}, stale_after_reset{0};
    gocxx::sync::WaitGroup wg;
    wg.add(2 * kN);
    for (int i = 0; i < kN; ++i) {
      go([&, i] {
        Timer t(std::chrono::microseconds(100 * (i % 20)));
        gocxx::time::sleep(std::chrono::microseconds(50 * (i % 40)));
        t.stop();
        if (ready_now(t.c())) stale_after_stop.fetch_add(1);
        wg.done();
      });
      go([&, i] {
        Timer t(std::chrono::microseconds(100 * (i % 20)));
        gocxx::time::sleep(std::chrono::microseconds(50 * (i % 40)));
        auto before_reset = Clock::now();
        t.reset(2ms);
        auto v = t.c().recv();
        if (!v || *v < before_reset + 2ms) stale_after_reset.fetch_add(1);
        wg.done();
      });
    }
    wg.wait();
    EXPECT_EQ(stale_after_stop.load(), 0);
    EXPECT_EQ(stale_after_reset.load(), 0);
  });
}

// Timers created, stopped and received on a plain thread.
TEST_P(TimerP, PlainThread) {
  run_with(GetParam(), [] {
    bool stopped = false, stayed_quiet = false, fired_late_enough = false;
    std::thread th([&] {
      Timer t(5ms);
      stopped = t.stop();
      std::this_thread::sleep_for(10ms);
      stayed_quiet = !ready_now(t.c());
      auto start = Clock::now();
      t.reset(2ms);
      auto v = t.c().recv();
      fired_late_enough = v && *v >= start + 2ms;
    });
    join(th);
    EXPECT_TRUE(stopped);
    EXPECT_TRUE(stayed_quiet);
    EXPECT_TRUE(fired_late_enough);
  });
}

INSTANTIATE_TEST_SUITE_P(Procs, TimerP, ::testing::Values(1, 2, 4));

// ---- Ticker -------------------------------------------------------------------------------

// Ticks keep coming with increasing time points; the k-th tick is at least k periods after
// the start (a late receiver misses ticks, it never gets them early).
TEST_P(TickerP, DeliversIncreasingTicks) {
  run_with(GetParam(), [] {
    const auto period = 2ms;
    auto start = Clock::now();
    Ticker tk(period);
    TimePoint prev = start;
    for (int k = 1; k <= 6; ++k) {
      auto v = tk.c().recv();
      ASSERT_TRUE(v.has_value());
      EXPECT_GT(*v, prev) << "tick " << k;
      EXPECT_GE(*v, start + k * period) << "tick " << k;
      prev = *v;
    }
    tk.stop();
  });
}

// A slow receiver does not get a burst: ticks missed while it was away are dropped.
TEST_P(TickerP, SlowReceiverMissesTicks) {
  run_with(GetParam(), [] {
    Ticker tk(1ms);
    gocxx::time::sleep(20ms);
    EXPECT_LE(tk.c().len(), 1u);
    auto first = tk.c().recv();
    ASSERT_TRUE(first.has_value());
    auto second = tk.c().recv();
    ASSERT_TRUE(second.has_value());
    EXPECT_GT(*second, *first);
  });
}

// After stop() returns no tick is received, not even one that was already buffered.
TEST_P(TickerP, StopStopsTicks) {
  run_with(GetParam(), [] {
    Ticker tk(1ms);
    ASSERT_TRUE(tk.c().recv().has_value());
    ASSERT_TRUE(tk.c().recv().has_value());
    wait_until_buffered(tk.c());  // a tick is pending in the channel
    tk.stop();
    EXPECT_FALSE(ready_now(tk.c())) << "stale tick after stop()";
    gocxx::time::sleep(15ms);
    EXPECT_FALSE(ready_now(tk.c())) << "tick after stop()";
    tk.stop();  // stopping twice is fine
  });
}

// reset() changes the period: after resetting a 1 ms ticker to 15 ms, the k-th tick is at
// least k * 15 ms after the reset, and no stale tick from the old schedule shows up.
TEST_P(TickerP, ResetChangesPeriod) {
  run_with(GetParam(), [] {
    Ticker tk(1ms);
    ASSERT_TRUE(tk.c().recv().has_value());
    wait_until_buffered(tk.c());
    auto before_reset = Clock::now();
    tk.reset(15ms);
    EXPECT_FALSE(ready_now(tk.c())) << "stale tick after reset()";
    for (int k = 1; k <= 3; ++k) {
      auto v = tk.c().recv();
      ASSERT_TRUE(v.has_value());
      EXPECT_GE(*v, before_reset + k * 15ms) << "tick " << k;
    }

    // Shortening: a ticker with a one-hour period ticks after reset to 2 ms.
    Ticker slow(std::chrono::hours(1));
    before_reset = Clock::now();
    slow.reset(2ms);
    for (int k = 1; k <= 3; ++k) {
      auto v = slow.c().recv();
      ASSERT_TRUE(v.has_value());
      EXPECT_GE(*v, before_reset + k * 2ms);
    }
  });
}

// reset() restarts a stopped ticker.
TEST_P(TickerP, ResetAfterStopRestarts) {
  run_with(GetParam(), [] {
    Ticker tk(2ms);
    tk.stop();
    gocxx::time::sleep(6ms);
    EXPECT_FALSE(ready_now(tk.c()));
    auto before_reset = Clock::now();
    tk.reset(3ms);
    auto v = tk.c().recv();
    ASSERT_TRUE(v.has_value());
    EXPECT_GE(*v, before_reset + 3ms);
  });
}

// Destroying a Ticker stops it.
TEST_P(TickerP, DestructorStops) {
  run_with(GetParam(), [] {
    RecvChan<TimePoint> c = RecvChan<TimePoint>::nil();
    {
      Ticker tk(1ms);
      c = tk.c();
      ASSERT_TRUE(c.recv().has_value());
    }
    ready_now(c);  // drops the one tick that may have been buffered before destruction
    gocxx::time::sleep(10ms);
    EXPECT_FALSE(ready_now(c)) << "destroyed ticker kept ticking";
  });
}

// Several goroutines each own a ticker; all tick the expected number of times.
TEST_P(TickerP, ManyTickers) {
  run_with(GetParam(), [] {
    const int kN = 20, kTicks = 5;
    std::atomic<int> bad{0};
    gocxx::sync::WaitGroup wg;
    wg.add(kN);
    for (int i = 0; i < kN; ++i) {
      go([&, i] {
        auto period = std::chrono::microseconds(500 + 100 * i);
        auto start = Clock::now();
        Ticker tk(period);
        for (int k = 1; k <= kTicks; ++k) {
          auto v = tk.c().recv();
          if (!v || *v < start + k * period) bad.fetch_add(1);
        }
        wg.done();
      });
    }
    wg.wait();
    EXPECT_EQ(bad.load(), 0);
  });
}

// Go's TestAfterStress: a ticker whose period is shorter than a tick takes to deliver (always
// due) delivers ticks as fast as they are received, and neither it nor its dropped ticks
// monopolize the timers: other timers fire and the scheduler keeps running.
TEST_P(TickerP, TinyPeriodsDeliverAndShareTheTimers) {
  gocxx::test::expect_returns(
      [] {
        run_with(GetParam(), [] {
          for (std::chrono::nanoseconds period : {1ns, 100ns, 200ns, 1000ns}) {
            Ticker tk(period);
            TimePoint prev{};
            for (int i = 0; i < 100; ++i) {
              auto v = tk.c().recv();
              ASSERT_TRUE(v.has_value());
              EXPECT_GT(*v, prev);
              prev = *v;
            }
            // An unreceived always-due ticker beside a sleeper, a timer and a spawned goroutine.
            gocxx::time::sleep(2ms);
            EXPECT_TRUE(gocxx::time::after(1ms).recv().has_value());
            Chan<int> c;
            go([c]() mutable { c.send(1); });
            EXPECT_EQ(c.recv(), 1);
          }
        });
      },
      "receiving from tickers with tiny periods");
}

INSTANTIATE_TEST_SUITE_P(Procs, TickerP, ::testing::Values(1, 2, 4));

TEST(TickerDeathTest, ZeroPeriodPanics) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(run_with(1, [] { Ticker tk(0ms); }), testing::ExitedWithCode(2),
              "panic: non-positive interval for NewTicker");
}

TEST(TickerDeathTest, NegativePeriodPanics) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(run_with(2, [] { Ticker tk(-1ms); }), testing::ExitedWithCode(2),
              "panic: non-positive interval for NewTicker");
}

TEST(TickerDeathTest, ResetToZeroPanics) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(run_with(1,
                       [] {
                         Ticker tk(1ms);
                         tk.reset(0ms);
                       }),
              testing::ExitedWithCode(2), "panic: non-positive interval for Ticker.Reset");
}

// ---- after_func ---------------------------------------------------------------------------

// f runs after d, in a goroutine of the current run (not on the timer thread).
TEST_P(AfterFuncP, RunsInGoroutineAfterDelay) {
  run_with(GetParam(), [] {
    Chan<gocxx::GoroutineId> id(1);
    Chan<TimePoint> when(1);
    auto start = Clock::now();
    Timer t = gocxx::time::after_func(3ms, [id, when]() mutable {
      when.send(Clock::now());
      id.send(gocxx::goroutine_id());
    });
    EXPECT_TRUE(t.c().is_nil());
    auto at = when.recv();
    auto gid = id.recv();
    ASSERT_TRUE(at && gid);
    EXPECT_GE(*at, start + 3ms);
    EXPECT_NE(*gid, 0u) << "after_func callback ran outside a goroutine";
    EXPECT_NE(*gid, gocxx::goroutine_id());
    EXPECT_FALSE(t.stop());  // already ran
  });
}

// stop() before the deadline: true, and f never runs.
TEST_P(AfterFuncP, StopBeforeFirePreventsCall) {
  run_with(GetParam(), [] {
    auto ran = std::make_shared<std::atomic<bool>>(false);
    Timer t = gocxx::time::after_func(10ms, [ran] { ran->store(true); });
    EXPECT_TRUE(t.stop());
    EXPECT_FALSE(t.stop());
    gocxx::time::sleep(25ms);
    EXPECT_FALSE(ran->load()) << "stopped after_func ran";
  });
}

// reset() reschedules the call; it runs once, at the new deadline.
TEST_P(AfterFuncP, ResetReschedules) {
  run_with(GetParam(), [] {
    auto calls = std::make_shared<std::atomic<int>>(0);
    Chan<TimePoint> when(4);
    Timer t = gocxx::time::after_func(std::chrono::hours(1), [calls, when]() mutable {
      calls->fetch_add(1);
      when.send(Clock::now());
    });
    auto before_reset = Clock::now();
    EXPECT_TRUE(t.reset(3ms));
    auto at = when.recv();
    ASSERT_TRUE(at.has_value());
    EXPECT_GE(*at, before_reset + 3ms);
    gocxx::time::sleep(10ms);
    EXPECT_EQ(calls->load(), 1);
  });
}

// Destroying the returned Timer does not cancel the callback (fire-and-forget, as in Go).
TEST_P(AfterFuncP, DestroyingHandleDoesNotCancel) {
  run_with(GetParam(), [] {
    Chan<bool> ran(1);
    { gocxx::time::after_func(2ms, [ran]() mutable { ran.send(true); }); }
    EXPECT_EQ(ran.recv(), std::optional<bool>(true));
  });
}

// Many callbacks, all run exactly once.
TEST_P(AfterFuncP, ManyCallbacks) {
  run_with(GetParam(), [] {
    const int kN = 100;
    auto counts = std::make_shared<std::vector<std::atomic<int>>>(kN);
    gocxx::sync::WaitGroup wg;
    wg.add(kN);
    std::vector<Timer> timers;
    for (int i = 0; i < kN; ++i) {
      timers.push_back(gocxx::time::after_func(std::chrono::microseconds(100 * (i % 30)),
                                               [counts, i, &wg] {
                                                 (*counts)[i].fetch_add(1);
                                                 wg.done();
                                               }));
    }
    wg.wait();
    gocxx::time::sleep(2ms);
    for (int i = 0; i < kN; ++i) EXPECT_EQ((*counts)[i].load(), 1) << i;
  });
}

TEST(AfterFuncTest, EmptyFunctionThrows) {
  run_with(1, [] {
    EXPECT_THROW(gocxx::time::after_func(1ms, std::function<void()>{}), std::invalid_argument);
  });
}

INSTANTIATE_TEST_SUITE_P(Procs, AfterFuncP, ::testing::Values(1, 2, 4));

}  // namespace

// A duration too large to add to the clock means "never", not an overflowed past deadline.
TEST(TimerHuge, MaxDurationNeverFires) {
  run_with(2, [] {
    Timer t(gocxx::time::Duration::max());
    auto never = gocxx::time::after(gocxx::time::Duration::max());
    gocxx::time::sleep(20ms);
    EXPECT_FALSE(ready_now(t.c()));
    EXPECT_FALSE(ready_now(never));
    EXPECT_TRUE(t.stop());
  });
}

// gocxx::leakcheck: the three leak patterns of the article on goroutine leaks this project
// started from (a send nobody receives, a WaitGroup whose Done never comes, closures capturing
// a loop variable by reference) are found with their wait reason and creation site, and their
// fixed versions pass; the ignore options, the baseline's identity across runs, verify_none's retries and the GoogleTest integration.
#include <gocxx/leakcheck.hpp>
#include <gocxx/leakcheck_gtest.hpp>
#include <gtest/gtest-spi.h>

#include <algorithm>
#include <string>
#include <vector>

#include "test_util.hpp"

using namespace std::chrono_literals;
using gocxx::Chan;
using gocxx::leakcheck::Leak;
using gocxx::leakcheck::Options;
using gocxx::test::eventually;
using gocxx::test::join_goroutines;
using gocxx::test::run_with;

// The code under test. Not inlined, and neither the blocking call nor go() is a function's last
// act (a tail call would drop the frame, or make "created by" name the caller's caller).
namespace leaktest {

// ---- (1) a send on a channel nobody receives ----

[[gnu::noinline]] void send_result(Chan<int> results, std::atomic<int>& sent) {
  results.send(42);
  sent.fetch_add(1);
}

// Buggy when `results` is unbuffered and the caller gave up on the result: the worker blocks
// in send forever. The fix gives the channel room for the one result (Chan<int>(1)).
[[gnu::noinline]] void start_computation(Chan<int> results, std::atomic<int>& sent,
                                         std::atomic<int>& started) {
  gocxx::go(send_result, results, std::ref(sent));
  started.fetch_add(1);
}

// ---- (2) a WaitGroup whose Done is never called ----

[[gnu::noinline]] void await_batch(gocxx::sync::WaitGroup& wg, std::atomic<int>& finished) {
  wg.wait();
  finished.fetch_add(1);
}

// Runs `jobs` jobs and a goroutine that waits for all of them. Buggy: jobs that find nothing
// to do return early without wg.done(), so the waiter waits forever. Fixed: done() on every
// path.
[[gnu::noinline]] void run_batch(gocxx::sync::WaitGroup& wg, std::atomic<int>& finished,
                                 int jobs, bool fixed) {
  for (int k = 0; k < jobs; ++k) {
    wg.add(1);
    gocxx::go([&wg, k, fixed] {
      if (k % 2 == 1 && !fixed) return;  // BUG: the early return skips done()
      wg.done();
    });
  }
  gocxx::go(await_batch, std::ref(wg), std::ref(finished));
  finished.fetch_add(0);
}

// ---- (3) closures capturing a loop variable by reference ----

[[gnu::noinline]] void serve_one(Chan<int> inbox, std::atomic<int>& served) {
  if (inbox.recv()) served.fetch_add(1);
  served.fetch_add(0);
}

[[gnu::noinline]] void send_job(Chan<int> shard, int job, std::atomic<int>& sent) {
  shard.send(job);
  sent.fetch_add(1);
}

// Starts one worker per shard. Buggy: `[&]` captures the loop's variable `inbox` by reference,
// and the workers read it when they first run, after the loop has moved on: all of them serve
// the last shard, so the senders to the other shards and all but one of the workers wait
// forever. (The variable outlives the loop here, as Go's pre-1.22 loop variable did; with a
// variable declared in the loop, the C++ bug is a dangling reference as well.) Fixed: each
// worker gets its own copy of the shard.
[[gnu::noinline]] void start_workers(std::vector<Chan<int>>& shards, Chan<int>& inbox,
                                     std::atomic<int>& served, bool fixed) {
  for (std::size_t s = 0; s < shards.size(); ++s) {
    inbox = shards[s];
    if (fixed) {
      gocxx::go([shard = shards[s], &served] { serve_one(shard, served); });
    } else {
      gocxx::go([&] { serve_one(inbox, served); });  // BUG: reads `inbox` later
    }
  }
  served.fetch_add(0);
}

[[gnu::noinline]] void feed_shards(std::vector<Chan<int>>& shards, std::atomic<int>& sent) {
  for (std::size_t s = 0; s < shards.size(); ++s) {
    gocxx::go(send_job, shards[s], static_cast<int>(s), std::ref(sent));
  }
  sent.fetch_add(0);
}

}  // namespace leaktest

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::size_t count_where(const std::vector<Leak>& leaks, const std::string& reason,
                        const std::string& creator) {
  return std::count_if(leaks.begin(), leaks.end(), [&](const Leak& g) {
    return g.wait_reason == reason && contains(g.created_by.function, creator);
  });
}

// Polls find() until pred holds for its result (goroutines take a moment to park or exit);
// returns the last look.
template <class Pred>
std::vector<Leak> find_when(const Options& options, Pred pred) {
  std::vector<Leak> leaks;
  eventually([&] {
    leaks = gocxx::leakcheck::find(options);
    return pred(leaks);
  });
  return leaks;
}

// Polls until `n` leaks are parked for `reason`, created by `creator`.
std::vector<Leak> leaks_once_parked(const Options& options, const std::string& reason,
                                    const std::string& creator, std::size_t n) {
  return find_when(options, [&](const std::vector<Leak>& leaks) {
    return count_where(leaks, reason, creator) == n;
  });
}

// Starts run_batch's buggy version and waits until the only leak left is its waiter, parked
// in wg.wait() (the jobs themselves all exit); returns that look. jobs / 2 done() calls are
// missing.
std::vector<Leak> start_wait_group_leak(const Options& base, gocxx::sync::WaitGroup& wg,
                                        std::atomic<int>& finished, int jobs) {
  leaktest::run_batch(wg, finished, jobs, /*fixed=*/false);
  return find_when(base, [](const std::vector<Leak>& found) {
    return found.size() == 1 && found[0].wait_reason == "sync.WaitGroup.Wait";
  });
}

// Options that stop after few retries: for checks that are expected to find leaks.
Options quick(Options options) {
  options.max_retries = 3;
  return options;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Runs a fixed version in a fresh run with `procs` Ps: what `start` spawns must all exit, which
// verify_none's retries wait for.
template <class Start>
void expect_no_leaks(int procs, const Options& base, Start start) {
  run_with(procs, [&] {
    start();
    EXPECT_NO_THROW(gocxx::leakcheck::verify_none(base));
  });
}

// Every test ignores what earlier tests of the process left behind (one process runs them all
// in the sanitizer builds), exactly as the GoogleTest listener does.
class LeakCheck : public ::testing::Test {
 protected:
  Options base = Options{}.ignore_current();
};

}  // namespace

// ---- the three patterns ------------------------------------------------------------------------

TEST_F(LeakCheck, UnreceivedSendIsReportedWithReasonTopFrameAndCreator) {
  run_with(2, [&] {
    Chan<int> results;  // unbuffered, and nobody will receive
    std::atomic<int> sent{0}, started{0};
    leaktest::start_computation(results, sent, started);
    auto leaks = leaks_once_parked(base, "chan send", "leaktest::start_computation", 1);
    ASSERT_EQ(leaks.size(), 1u) << gocxx::leakcheck::describe(leaks);
    const Leak& g = leaks[0];
    EXPECT_EQ(g.status(), "chan send");
    EXPECT_EQ(g.created_by.function, "leaktest::start_computation");
    EXPECT_TRUE(ends_with(g.created_by.file, "leakcheck_test.cpp")) << g.created_by.file;
    EXPECT_EQ(g.parent_id, gocxx::goroutine_id());
    ASSERT_FALSE(g.frames.empty());
    EXPECT_EQ(g.frames.front().function, "leaktest::send_result");  // Chan internals trimmed
    EXPECT_FALSE(g.abandoned);

    try {
      gocxx::leakcheck::verify_none(quick(base));
      ADD_FAILURE() << "verify_none did not throw";
    } catch (const gocxx::leakcheck::LeakError& e) {
      ASSERT_EQ(e.leaks().size(), 1u);
      EXPECT_EQ(e.leaks()[0].id, g.id);
      std::string text = e.what();
      EXPECT_TRUE(contains(text, "found 1 leaked goroutine:\n")) << text;
      EXPECT_TRUE(contains(text, "Goroutine " + std::to_string(g.id) +
                                     " in state chan send, with leaktest::send_result at "))
          << text;
      EXPECT_TRUE(contains(text, "created by leaktest::start_computation at ")) << text;
      EXPECT_TRUE(contains(text, "goroutine " + std::to_string(g.id) + " [chan send]:\n"))
          << text;
    }
    EXPECT_EQ(results.recv(), 42);  // clean up: take the result after all
    join_goroutines();
    EXPECT_EQ(sent.load(), 1);
  });
}

TEST_F(LeakCheck, UnreceivedSendFixedWithRoomForTheResultPasses) {
  std::atomic<int> sent{0}, started{0};
  expect_no_leaks(2, base, [&] {
    Chan<int> results(1);  // the fix: the worker can leave its result and exit
    leaktest::start_computation(results, sent, started);
  });
  EXPECT_EQ(sent.load(), 1);
}

TEST_F(LeakCheck, WaitGroupWithoutDoneIsReported) {
  run_with(2, [&] {
    gocxx::sync::WaitGroup wg;
    std::atomic<int> finished{0};
    auto all = start_wait_group_leak(base, wg, finished, 4);
    ASSERT_EQ(all.size(), 1u) << gocxx::leakcheck::describe(all);
    const Leak& g = all[0];
    EXPECT_EQ(g.wait_reason, "sync.WaitGroup.Wait");
    EXPECT_EQ(g.created_by.function, "leaktest::run_batch");
    ASSERT_GE(g.frames.size(), 2u);
    EXPECT_EQ(g.frames[0].function, "gocxx::sync::WaitGroup::wait");  // as Go shows Wait
    EXPECT_EQ(g.frames[1].function, "leaktest::await_batch");
    wg.done();  // clean up: the two missing done() calls
    wg.done();
    join_goroutines();
    EXPECT_EQ(finished.load(), 1);
  });
}

TEST_F(LeakCheck, WaitGroupWithDoneOnEveryPathPasses) {
  gocxx::sync::WaitGroup wg;
  std::atomic<int> finished{0};
  expect_no_leaks(2, base, [&] { leaktest::run_batch(wg, finished, 4, /*fixed=*/true); });
  EXPECT_EQ(finished.load(), 1);
}

TEST_F(LeakCheck, LoopVariableCapturedByReferenceIsReported) {
  // One P: the workers first run after start_workers has returned, as they usually would.
  run_with(1, [&] {
    constexpr std::size_t kShards = 4;
    std::vector<Chan<int>> shards(kShards);
    Chan<int> inbox = Chan<int>::nil();
    std::atomic<int> served{0}, sent{0};
    leaktest::start_workers(shards, inbox, served, /*fixed=*/false);
    leaktest::feed_shards(shards, sent);
    // All workers serve the last shard: one of them gets its job, the others wait; the
    // senders to the first three shards wait for workers that never come.
    auto leaks = find_when(base, [&](const std::vector<Leak>& found) {
      return found.size() == 2 * (kShards - 1) &&
             count_where(found, "chan receive", "leaktest::start_workers") == kShards - 1 &&
             count_where(found, "chan send", "leaktest::feed_shards") == kShards - 1;
    });
    EXPECT_EQ(leaks.size(), 2 * (kShards - 1)) << gocxx::leakcheck::describe(leaks);
    EXPECT_EQ(count_where(leaks, "chan receive", "leaktest::start_workers"), kShards - 1);
    EXPECT_EQ(count_where(leaks, "chan send", "leaktest::feed_shards"), kShards - 1);
    for (const Leak& g : leaks) {
      ASSERT_FALSE(g.frames.empty());
      if (g.wait_reason == "chan send") {
        EXPECT_EQ(g.frames.front().function, "leaktest::send_job");
      } else {
        EXPECT_EQ(g.frames.front().function, "leaktest::serve_one");
      }
    }
    EXPECT_EQ(served.load(), 1);
    for (std::size_t s = 0; s + 1 < kShards; ++s) shards[s].recv();  // clean up
    shards.back().close();
    join_goroutines();
    EXPECT_EQ(sent.load(), static_cast<int>(kShards));
  });
}

TEST_F(LeakCheck, LoopVariableCopiedPerWorkerPasses) {
  std::vector<Chan<int>> shards(4);
  Chan<int> inbox = Chan<int>::nil();
  std::atomic<int> served{0}, sent{0};
  expect_no_leaks(1, base, [&] {
    leaktest::start_workers(shards, inbox, served, /*fixed=*/true);
    leaktest::feed_shards(shards, sent);
  });
  EXPECT_EQ(served.load(), 4);
  EXPECT_EQ(sent.load(), 4);
}

// ---- options ----------------------------------------------------------------------------------

TEST_F(LeakCheck, IgnoreTopAnyFunctionAndCreatedBy) {
  run_with(2, [&] {
    gocxx::sync::WaitGroup wg;
    std::atomic<int> finished{0};
    auto leaks = start_wait_group_leak(base, wg, finished, 2);
    ASSERT_EQ(leaks.size(), 1u) << gocxx::leakcheck::describe(leaks);
    const Leak& g = leaks[0];
    ASSERT_GE(g.frames.size(), 2u) << gocxx::leakcheck::describe(leaks);
    std::string top = g.frames[0].function, below = g.frames[1].function;
    EXPECT_EQ(top, "gocxx::sync::WaitGroup::wait");
    EXPECT_EQ(below, "leaktest::await_batch");
    auto find_with = [&](const Options& o) { return gocxx::leakcheck::find(o).size(); };
    auto with = [&] { return Options(base); };

    EXPECT_EQ(find_with(with().ignore_top_function(top)), 0u);
    EXPECT_EQ(find_with(with().ignore_top_function("gocxx::sync::WaitGroup::*")), 0u);  // prefix
    EXPECT_EQ(find_with(with().ignore_top_function("gocxx::sync::WaitGroup")), 1u);  // exact
    EXPECT_EQ(find_with(with().ignore_top_function(below)), 1u);  // on the stack, not on top

    EXPECT_EQ(find_with(with().ignore_any_function(below)), 0u);
    EXPECT_EQ(find_with(with().ignore_any_function(top)), 0u);
    EXPECT_EQ(find_with(with().ignore_any_function("leaktest::*")), 0u);
    EXPECT_EQ(find_with(with().ignore_any_function("leaktest::run_batch")), 1u);  // the creator

    EXPECT_EQ(find_with(with().ignore_created_by("leaktest::run_batch")), 0u);
    EXPECT_EQ(find_with(with().ignore_created_by("leaktest::*")), 0u);
    EXPECT_EQ(find_with(with().ignore_created_by(below)), 1u);

    EXPECT_EQ(find_with(with().ignore_top_function("x").ignore_created_by("y")), 1u);
    wg.done();  // clean up: the missing done()
    join_goroutines();
    EXPECT_EQ(finished.load(), 1);
  });
}

TEST_F(LeakCheck, IgnoreCurrentIgnoresOnlyWhatWasAliveThen) {
  run_with(2, [&] {
    Chan<int> first, second;
    std::atomic<int> sent{0}, started{0};
    leaktest::start_computation(first, sent, started);
    leaks_once_parked(base, "chan send", "leaktest::start_computation", 1);
    Options later = Options(base).ignore_current();
    leaktest::start_computation(second, sent, started);
    leaks_once_parked(base, "chan send", "leaktest::start_computation", 2);
    auto leaks = gocxx::leakcheck::find(later);
    ASSERT_EQ(leaks.size(), 1u) << gocxx::leakcheck::describe(leaks);
    EXPECT_EQ(leaks[0].wait_reason, "chan send");
    first.recv();
    second.recv();
    join_goroutines();
  });
}

TEST_F(LeakCheck, BaselineIdentityIsRunAndIdNotIdAlone) {
  // Run 1 leaves goroutine 2 behind; run 2's goroutine 2 is a different goroutine.
  static Chan<int> never;  // outlives the runs: the abandoned goroutine holds it
  static std::atomic<int> sink{0}, started{0};
  std::uint64_t first_id = 0;
  run_with(2, [&] {
    leaktest::start_computation(never, sink, started);
    first_id = leaks_once_parked(base, "chan send", "leaktest::start_computation", 1).at(0).id;
  });
  Options after_first = Options(base).ignore_current();
  auto abandoned = gocxx::leakcheck::find(base);
  ASSERT_EQ(abandoned.size(), 1u);
  EXPECT_TRUE(abandoned[0].abandoned);  // left by a returned run: a leak
  EXPECT_TRUE(gocxx::leakcheck::find(after_first).empty());
  run_with(2, [&] {
    Chan<int> results;
    std::atomic<int> sent{0}, mine{0};
    leaktest::start_computation(results, sent, mine);
    auto leaks = leaks_once_parked(after_first, "chan send", "leaktest::start_computation", 1);
    ASSERT_EQ(leaks.size(), 1u) << gocxx::leakcheck::describe(leaks);
    EXPECT_EQ(leaks[0].id, first_id);  // the same id as the baseline's goroutine ...
    EXPECT_FALSE(leaks[0].abandoned);  // ... but this run's, so still reported
    results.recv();
    join_goroutines();
  });
}

// ---- abandoned goroutines, retries ----------------------------------------------------------

TEST_F(LeakCheck, GoroutinesLeftByAReturnedRunAreLeaks) {
  static Chan<int> never;
  static std::atomic<int> sink{0}, started{0};
  run_with(2, [&] {
    leaktest::start_computation(never, sink, started);
    leaks_once_parked(base, "chan send", "leaktest::start_computation", 1);
  });
  // They never run again, so check() stops retrying at once (with these options, waiting for
  // them to exit would take hours).
  Options patient = base;
  patient.max_retries = 1000;
  patient.max_sleep = 1h;
  auto leaks = gocxx::leakcheck::check(patient);
  ASSERT_EQ(leaks.size(), 1u);
  EXPECT_TRUE(leaks[0].abandoned);
  EXPECT_EQ(leaks[0].wait_reason, "chan send");
  EXPECT_EQ(leaks[0].created_by.function, "leaktest::start_computation");
  EXPECT_TRUE(contains(gocxx::leakcheck::describe(leaks),
                       "abandoned by a gocxx::run that has returned"));
  EXPECT_THROW(gocxx::leakcheck::verify_none(patient), gocxx::leakcheck::LeakError);
}

TEST_F(LeakCheck, VerifyNoneWaitsForGoroutinesOnTheirWayOut) {
  // One P: the goroutine cannot run until the check sleeps between its looks.
  run_with(1, [&] {
    std::atomic<bool> finished{false};
    gocxx::go([&] {
      for (int i = 0; i < 100; ++i) gocxx::yield();
      finished.store(true);
    });
    EXPECT_EQ(gocxx::leakcheck::find(base).size(), 1u);  // the first look sees it
    EXPECT_NO_THROW(gocxx::leakcheck::verify_none(base));
    EXPECT_TRUE(finished.load());
  });
}

TEST_F(LeakCheck, CallerIsNeverALeak) {
  run_with(2, [&] { EXPECT_TRUE(gocxx::leakcheck::find(base).empty()); });
  EXPECT_TRUE(gocxx::leakcheck::find(base).empty());  // a plain thread, no run
}

TEST(LeakCheckDescribe, EmptyForNoLeaks) { EXPECT_EQ(gocxx::leakcheck::describe({}), ""); }

// ---- GoogleTest integration ------------------------------------------------------------------

namespace {

// Leaves one goroutine blocked in send_result behind a returned run.
void leaky_test_body() {
  static Chan<int> never;
  static std::atomic<int> sink{0}, started{0};
  run_with(2, [] {
    leaktest::start_computation(never, sink, started);
    eventually([] {
      for (const auto& g : gocxx::debug::goroutines()) {
        if (!g.abandoned && g.wait_reason == "chan send") return true;
      }
      return false;
    });
  });
}

void clean_test_body() {
  run_with(2, [] {
    Chan<int> results(1);
    std::atomic<int> sent{0}, started{0};
    leaktest::start_computation(results, sent, started);
    join_goroutines();
  });
}

}  // namespace

TEST(LeakCheckGTest, ListenerReportsWhatTheTestLeaked) {
  gocxx::leakcheck::GTestListener listener;
  listener.begin();
  leaky_test_body();
  std::string failure = listener.end();
  EXPECT_TRUE(contains(failure, "found 1 leaked goroutine:\n")) << failure;
  EXPECT_TRUE(contains(failure, " in state chan send, with leaktest::send_result at ")) << failure;
  EXPECT_TRUE(contains(failure, "leakcheck_test.cpp:")) << failure;
  EXPECT_TRUE(contains(failure, "created by leaktest::start_computation at ")) << failure;
  EXPECT_TRUE(contains(failure, "abandoned by a gocxx::run that has returned")) << failure;
  EXPECT_TRUE(contains(failure, " [chan send]:\nleaktest::send_result(...)\n")) << failure;

  // A later test starts with a new baseline: the earlier leak is not reported again.
  listener.begin();
  clean_test_body();
  EXPECT_EQ(listener.end(), "");
}

TEST(LeakCheckGTest, ListenerFailsTheTestAtItsEnd) {
  gocxx::leakcheck::GTestListener listener;
  const ::testing::TestInfo& self = *::testing::UnitTest::GetInstance()->current_test_info();
  listener.OnTestStart(self);
  leaky_test_body();
  EXPECT_NONFATAL_FAILURE(listener.OnTestEnd(self),
                          "LeakCheckGTest.ListenerFailsTheTestAtItsEnd leaked goroutines");
  listener.OnTestStart(self);
  clean_test_body();
  listener.OnTestEnd(self);  // no leak: no failure (this test would fail otherwise)
}

TEST(LeakCheckGTest, VerifyNoneMacro) {
  Options base = Options{}.ignore_current();
  clean_test_body();
  GOCXX_VERIFY_NONE(base);
  leaky_test_body();
  EXPECT_NONFATAL_FAILURE({ GOCXX_VERIFY_NONE(base); }, "in state chan send");
  Options now = Options{}.ignore_current();
  GOCXX_VERIFY_NONE(now);
}

// Records taken while goroutines are spawned, run, yield and exit as fast as they can (each
// dead G reused at once from the pool) are each one goroutine's, consistently: a unique id,
// its true creator, and frames from its own code only. Before reads were validated against
// reuse, about one snapshot in 2,000 showed a runnable goroutine whose top frame was garbage
// (which defeats an ignore_top_function filter), and TSan reported the racing id read.
TEST(LeakCheckChurn, RecordsStayConsistentWhileGoroutinesComeAndGo) {
  run_with(2, [] {
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> spawner_id{0};
    Chan<int> spawner_done;
    gocxx::go([&]() mutable {
      spawner_id = gocxx::goroutine_id();
      while (!stop.load(std::memory_order_relaxed)) {
        gocxx::sync::WaitGroup batch;
        for (int i = 0; i < 16; ++i) {
          batch.add(1);
          gocxx::go([&batch] {
            gocxx::yield();
            batch.done();
          });
        }
        batch.wait();
      }
      spawner_done.send(1);
    });
    while (spawner_id.load() == 0) gocxx::yield();
    int bad = 0;
    for (int round = 0; round < gocxx::test::scaled(60000) && bad < 10; ++round) {
      std::vector<std::uint64_t> ids;
      for (const auto& g : gocxx::debug::goroutines()) {
        if (g.abandoned) continue;  // left by earlier tests' runs (ids restart with each run)
        ids.push_back(g.id);
        if (g.id == 1 || g.id == spawner_id) continue;
        // Frames, if any: the churning lambda's (it may be below gocxx::yield, which some
        // builds do not inline), and none unknown.
        bool consistent = g.parent_id == spawner_id;
        bool in_lambda = g.frames.empty();
        for (const auto& f : g.frames) {
          consistent = consistent && !f.function.empty() && f.function != "?";
          in_lambda = in_lambda || f.function.find("operator()") != std::string::npos;
        }
        consistent = consistent && in_lambda;
        if (!consistent) {
          ++bad;
          ADD_FAILURE() << "round " << round << ": inconsistent record of goroutine " << g.id
                        << " (parent " << g.parent_id << ", top frame "
                        << (g.frames.empty() ? std::string("none") : g.frames.front().function)
                        << ")";
        }
      }
      std::sort(ids.begin(), ids.end());
      EXPECT_EQ(std::adjacent_find(ids.begin(), ids.end()), ids.end()) << "a goroutine listed twice";
    }
    stop = true;
    spawner_done.recv();
  });
}

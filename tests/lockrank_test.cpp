// The lock-rank table and its checker (src/runtime/lockrank.hpp). In a checking build
// (GOCXX_LOCK_RANK: Debug, the asan preset) deliberate inversions must abort naming both locks,
// and the runtime's real paths must run clean; the rest of the suite, run in those builds, is
// the wider proof of the latter. In a build without checking the ranked types must be the
// plain ones (no cost), which is asserted here, so this file tests something in every build.
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstring>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "gocxx/gocxx.hpp"
#include "gocxx/sync.hpp"
#include "gocxx/time.hpp"
#include "runtime/lockrank.hpp"
#include "runtime/scheduler.hpp"
#include "test_util.hpp"

namespace {

using gocxx::detail::kLockRanks;
using gocxx::detail::LockRank;
using gocxx::detail::lock_rank_held_count;
using gocxx::detail::RankedLock;
using gocxx::detail::RankedMutex;
using gocxx::detail::RankedSharedMutex;

// ---- every build -------------------------------------------------------------------------------

static_assert(gocxx::detail::lock_rank_table_consistent());

TEST(LockRankTable, OneRowPerRankInOrderWithDistinctNames) {
  std::set<std::string> names;
  for (std::size_t i = 0; i < std::size(kLockRanks); ++i) {
    EXPECT_EQ(static_cast<std::size_t>(kLockRanks[i].rank), i);
    EXPECT_TRUE(names.insert(kLockRanks[i].name).second) << kLockRanks[i].name;
  }
  EXPECT_EQ(std::size(kLockRanks), static_cast<std::size_t>(LockRank::kCount));
  // Only the channel rank may be held several times (select, in address order).
  for (const auto& row : kLockRanks) {
    EXPECT_EQ(row.multi, row.rank == LockRank::kHchan) << row.name;
  }
}

#if !GOCXX_LOCK_RANK

// Without checking, the ranked types are the plain ones: nothing is added to any lock path.
static_assert(std::is_same_v<RankedMutex<LockRank::kSched>, std::mutex>);
static_assert(std::is_same_v<RankedLock<LockRank::kHchan>, gocxx::detail::Lock>);
static_assert(std::is_same_v<RankedSharedMutex<LockRank::kRuntimeLive>, std::shared_mutex>);

TEST(LockRankOff, RankedTypesArePlainAndHooksEmpty) {
  EXPECT_FALSE(gocxx::detail::kLockRankChecking);
  RankedMutex<LockRank::kSched> sched;
  RankedMutex<LockRank::kTimers> timers;
  std::lock_guard a(sched);
  std::lock_guard b(timers);  // the inversion the checking build aborts on: unchecked here
  EXPECT_EQ(lock_rank_held_count(), 0);
}

#else  // checking build

static_assert(gocxx::detail::kLockRankChecking);

TEST(LockRank, InOrderAcquisitionsAreRecordedAndReleased) {
  RankedMutex<LockRank::kTimers> timers;
  RankedLock<LockRank::kHchan> chan;
  RankedMutex<LockRank::kSched> sched;
  RankedMutex<LockRank::kAllGs> allgs;
  {
    std::lock_guard a(timers);
    std::lock_guard b(chan);
    std::lock_guard c(sched);
    std::lock_guard d(allgs);
    EXPECT_EQ(lock_rank_held_count(), 4);
  }
  EXPECT_EQ(lock_rank_held_count(), 0);
  // Out-of-order release is allowed.
  timers.lock();
  sched.lock();
  timers.unlock();
  EXPECT_EQ(lock_rank_held_count(), 1);
  sched.unlock();
  EXPECT_EQ(lock_rank_held_count(), 0);
}

TEST(LockRank, ChannelLocksInAddressOrder) {
  RankedLock<LockRank::kHchan> chans[3];
  for (auto& c : chans) c.lock();  // increasing addresses, as select locks them
  EXPECT_EQ(lock_rank_held_count(), 3);
  for (auto& c : chans) c.unlock();
  EXPECT_EQ(lock_rank_held_count(), 0);
}

TEST(LockRank, TryLockIsRecordedButNotChecked) {
  RankedMutex<LockRank::kSched> sched;
  RankedMutex<LockRank::kTimers> timers;
  std::lock_guard a(sched);
  ASSERT_TRUE(timers.try_lock());  // did not wait, so it cannot deadlock
  EXPECT_EQ(lock_rank_held_count(), 2);
  timers.unlock();
  EXPECT_EQ(lock_rank_held_count(), 1);
}

// Locks a RankedMutex<First>, then a RankedMutex<Second>, and holds both.
template <LockRank First, LockRank Second>
void lock_first_then_second() {
  RankedMutex<First> first;
  RankedMutex<Second> second;
  std::lock_guard a(first);
  std::lock_guard b(second);
}

// The deliberate inversions. Each child aborts with Go's message naming both locks.
TEST(LockRankDeathTest, InversionAbortsNamingBothLocks) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT((lock_first_then_second<LockRank::kSched, LockRank::kTimers>()),
      testing::KilledBySignal(SIGABRT),
      "fatal error: lock ordering problem: acquiring timers \\(TimerQueue::lock_\\) while "
      "holding sched \\(Runtime::lock\\)");
}

TEST(LockRankDeathTest, SameRankTwiceAbortsUnlessMulti) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT((lock_first_then_second<LockRank::kSched, LockRank::kSched>()),
      testing::KilledBySignal(SIGABRT),
      "acquiring sched \\(Runtime::lock\\) while holding sched \\(Runtime::lock\\)");
  EXPECT_EXIT(
      {
        RankedSharedMutex<LockRank::kRuntimeLive> live;
        std::shared_lock a(live);
        std::shared_lock b(live);  // recursive read lock: deadlocks behind a waiting writer
      },
      testing::KilledBySignal(SIGABRT),
      "acquiring runtimeLive \\(g_runtime_lock\\) while holding runtimeLive");
}

TEST(LockRankDeathTest, ChannelLocksOutOfAddressOrderAbort) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        RankedLock<LockRank::kHchan> chans[2];
        chans[1].lock();
        chans[0].lock();
      },
      testing::KilledBySignal(SIGABRT),
      "acquiring hchan \\(ChanCore::lock\\) while holding hchan \\(ChanCore::lock\\)");
}

// The runtime's own locks: a goroutine that holds Runtime::lock and starts a timer (which takes
// the timer lock) inverts the real order.
TEST(LockRankDeathTest, RealRuntimeLocksInverted) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(gocxx::test::in_goroutine([] {
                auto* rt = gocxx::detail::current_runtime();
                std::lock_guard lk(rt->lock);
                (void)gocxx::time::after(std::chrono::hours(1));
              }),
              testing::KilledBySignal(SIGABRT),
              "fatal error: lock ordering problem: acquiring timers \\(TimerQueue::lock_\\) "
              "while holding sched \\(Runtime::lock\\)");
}

// A fatal error with runtime locks held still gets its report: the dump takes the registry lock
// and g_runtime_lock, out of order after Runtime::lock, but a crashing thread is not checked.
TEST(LockRankDeathTest, FatalErrorUnderALockIsReportedNotFlaggedAsInversion) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(gocxx::test::in_goroutine([] {
                auto* rt = gocxx::detail::current_runtime();
                rt->lock.lock();
                gocxx::detail::fatal_with_dump("fatal error: deliberate, with Runtime::lock held");
              }),
              testing::ExitedWithCode(2),
              "fatal error: deliberate, with Runtime::lock held\n(.|\n)*goroutine 1 ");
}

// The real paths in the orders they nest: timers firing into channels and readying sleepers,
// a select over several channels, semaphores, a Cond, spawning from a timer. Any inversion
// aborts the process; afterwards no thread of ours holds a ranked lock.
TEST(LockRank, RuntimePathsRunClean) {
  gocxx::test::run_joined(4, [] {
    std::vector<gocxx::Chan<int>> chans;
    for (int i = 0; i < 4; ++i) chans.emplace_back(i % 2);
    gocxx::sync::WaitGroup wg;
    gocxx::sync::Mutex mu;
    gocxx::sync::Cond cond(mu);
    int ready = 0;
    for (int i = 0; i < 4; ++i) {
      wg.add(1);
      gocxx::go([&, i] {
        for (int k = 0; k < 50; ++k) chans[i].send(k);
        {
          std::lock_guard lk(mu);
          ++ready;
          cond.broadcast();
        }
        wg.done();
      });
    }
    int got = 0;
    auto tick = gocxx::time::after(std::chrono::milliseconds(1));
    std::atomic<bool> fired{false};
    auto t = gocxx::time::after_func(std::chrono::milliseconds(1), [&] { fired = true; });
    while (got < 200) {
      gocxx::select(gocxx::recv_case(chans[0], [&](std::optional<int>) { ++got; }),
                    gocxx::recv_case(chans[1], [&](std::optional<int>) { ++got; }),
                    gocxx::recv_case(chans[2], [&](std::optional<int>) { ++got; }),
                    gocxx::recv_case(chans[3], [&](std::optional<int>) { ++got; }),
                    gocxx::recv_case(tick, [](std::optional<gocxx::time::TimePoint>) {}));
    }
    {
      std::unique_lock lk(mu);
      while (ready < 4) cond.wait();
    }
    wg.wait();
    gocxx::time::sleep(std::chrono::milliseconds(2));
    while (!fired) gocxx::yield();
    EXPECT_EQ(lock_rank_held_count(), 0);
  });
  EXPECT_EQ(lock_rank_held_count(), 0);
}

#endif

}  // namespace

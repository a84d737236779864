// Goroutine dumps (debug::goroutines, write_goroutines), SIGQUIT, GOCXX_TRACEBACK and global
// deadlock detection.
#include <gocxx/debug.hpp>

#include <signal.h>
#include <unistd.h>

#include <regex>
#include <sstream>
#include <string>
#include <thread>

#include <gmock/gmock.h>

#include "test_util.hpp"

using namespace std::chrono_literals;
using gocxx::debug::Goroutine;
using gocxx::debug::GoroutineState;
using gocxx::detail::WaitReason;
using gocxx::test::go_until_parked;
using gocxx::test::run_with;
using ::testing::AllOf;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

namespace {

// Not inlined, and the blocking call is not its last act (a tail call would drop the frame):
// these are the frames the dump must show.
[[gnu::noinline]] void blocked_sender(gocxx::Chan<int> ch, std::atomic<int>& after) {
  ch.send(1);
  after.fetch_add(1);
}

[[gnu::noinline]] void waits_for_group(gocxx::sync::WaitGroup& wg, std::atomic<int>& after) {
  wg.wait();
  after.fetch_add(1);
}

const Goroutine* find_id(const std::vector<Goroutine>& all, std::uint64_t id);

// Yields until goroutine `id` of this run is parked for `reason`, as the dump itself sees it.
void await_parked(std::uint64_t id, const std::string& reason) {
  for (;;) {
    auto all = gocxx::debug::goroutines();
    const Goroutine* g = find_id(all, id);
    if (g && g->wait_reason == reason) return;
    gocxx::yield();
  }
}

// Spawns the goroutine from a named function, so "created by" has a name to check.
[[gnu::noinline]] std::uint64_t spawn_sender(gocxx::Chan<int> ch, std::atomic<int>& after) {
  std::uint64_t id = gocxx::go([ch, &after] { blocked_sender(ch, after); });
  await_parked(id, "chan send");
  return id;
}

const Goroutine* find_id(const std::vector<Goroutine>& all, std::uint64_t id) {
  for (const Goroutine& g : all) {
    if (g.id == id && !g.abandoned) return &g;
  }
  return nullptr;
}

bool has_frame(const Goroutine& g, const std::string& function) {
  for (const auto& f : g.frames) {
    if (f.function.find(function) != std::string::npos) return true;
  }
  return false;
}

std::string text_of(const Goroutine& g) {
  std::ostringstream out;
  gocxx::debug::write_goroutine(out, g);
  return out.str();
}

// The paragraph of `text` (blank-line separated) that starts with `prefix`; std::regex recurses
// per character, so tests match one paragraph rather than a whole dump.
std::string paragraph(const std::string& text, const std::string& prefix) {
  std::size_t at = text.rfind(prefix, 0) == 0 ? 0 : text.find("\n" + prefix);
  if (at == std::string::npos) return "";
  if (at != 0) ++at;
  std::size_t end = text.find("\n\n", at);
  return text.substr(at, end == std::string::npos ? std::string::npos : end - at + 1);
}

std::string dump(int level) {
  std::ostringstream out;
  gocxx::debug::write_goroutines(out, level);
  return out.str();
}

}  // namespace

TEST(Goroutines, RecordsNameStateWaitReasonFramesAndCreator) {
  run_with(2, [] {
    gocxx::Chan<int> ch;
    std::atomic<int> after{0};
    std::uint64_t id = spawn_sender(ch, after);
    auto all = gocxx::debug::goroutines();
    const Goroutine* rec = find_id(all, id);
    ASSERT_NE(rec, nullptr);
    EXPECT_EQ(rec->state, GoroutineState::waiting);
    EXPECT_EQ(rec->wait_reason, "chan send");
    EXPECT_EQ(rec->status(), "chan send");
    EXPECT_EQ(rec->parent_id, 1u);
    EXPECT_TRUE(rec->stack_available);
    EXPECT_FALSE(rec->abandoned);
    EXPECT_TRUE(has_frame(*rec, "blocked_sender")) << text_of(*rec);
    // The runtime's own frames (channel internals, scheduler, go() glue) are trimmed.
    for (const auto& f : rec->frames) {
      EXPECT_NE(f.function.rfind("gocxx::detail::", 0), 0u) << f.function;
      EXPECT_NE(f.function.rfind("gocxx::Chan<", 0), 0u) << f.function;
    }
    EXPECT_NE(rec->created_by.function.find("spawn_sender"), std::string::npos)
        << rec->created_by.function;
    EXPECT_NE(rec->created_by.file.find("debug_test.cpp"), std::string::npos);
    EXPECT_GT(rec->wait_since.time_since_epoch().count(), 0);
    // The caller comes first and is running.
    ASSERT_FALSE(all.empty());
    EXPECT_EQ(all.front().id, 1u);
    EXPECT_EQ(all.front().state, GoroutineState::running);
    ch.recv();
    gocxx::test::join_goroutines();
    EXPECT_EQ(after.load(), 1);
  });
}

// The dumps are taken inside the run; std::regex (recursive per character) then matches them
// on the test thread's large stack rather than a goroutine's.
TEST(Goroutines, Level2IsGoTracebackFormat) {
  std::string text, id;
  run_with(2, [&] {
    gocxx::Chan<int> ch;
    std::atomic<int> after{0};
    id = std::to_string(spawn_sender(ch, after));
    text = dump(2);
    ch.recv();
    gocxx::test::join_goroutines();
  });
  std::regex block("goroutine " + id +
                   R"( \[chan send\]:\n(?:[^\n]+\(\.\.\.\)\n\t[^\n]+:\d+ \+0x[0-9a-f]+\n)*)"
                   R"([^\n]*blocked_sender\(\.\.\.\)\n\t[^\n]*debug_test\.cpp:\d+ \+0x[0-9a-f]+\n)"
                   R"((?:[^\n]+\(\.\.\.\)\n\t[^\n]+:\d+ \+0x[0-9a-f]+\n)*)"
                   R"(created by [^\n]*spawn_sender in goroutine 1\n\t[^\n]*debug_test\.cpp:\d+ \+0x[0-9a-f]+\n)");
  EXPECT_TRUE(std::regex_search(paragraph(text, "goroutine " + id + " ["), block)) << text;
  EXPECT_EQ(text.rfind("goroutine 1 [running]:\n", 0), 0u) << text;
}

TEST(Goroutines, Level1GroupsIdenticalStacksWithCounts) {
  constexpr int kSenders = 5;
  std::string text;
  run_with(2, [&] {
    gocxx::Chan<int> ch;
    std::atomic<int> after{0};
    for (int i = 0; i < kSenders; ++i) spawn_sender(ch, after);
    text = dump(1);
    for (int i = 0; i < kSenders; ++i) ch.recv();
    gocxx::test::join_goroutines();
    EXPECT_EQ(after.load(), kSenders);
  });
  EXPECT_EQ(text.rfind("goroutine profile: total " + std::to_string(kSenders + 1) + "\n", 0), 0u)
      << text;
  std::regex group(std::to_string(kSenders) +
                   R"( @( 0x[0-9a-f]+)+\n# labels: \{"state":"chan send"\}\n(#\t0x[0-9a-f]+\t[^\n]+\+0x[0-9a-f]+\t[^\n]+:\d+\n)*)"
                   R"(#\t0x[0-9a-f]+\t[^\t\n]*blocked_sender\+0x[0-9a-f]+\t[^\n]*debug_test\.cpp:\d+\n)");
  EXPECT_TRUE(std::regex_search(paragraph(text, std::to_string(kSenders) + " @"), group)) << text;
}

TEST(Goroutines, BadLevelThrows) {
  std::ostringstream out;
  EXPECT_THROW(gocxx::debug::write_goroutines(out, 0), std::invalid_argument);
  EXPECT_THROW(gocxx::debug::write_goroutines(out, 3), std::invalid_argument);
}

TEST(Goroutines, WaitDurationUsesGoMinutesRule) {
  Goroutine g;
  g.id = 7;
  g.state = GoroutineState::waiting;
  g.wait_reason = "chan receive";
  auto now = std::chrono::steady_clock::now();
  g.wait_since = now - 59s;
  EXPECT_EQ(g.wait_minutes(now), 0);
  g.wait_since = now - 61s;
  EXPECT_EQ(g.wait_minutes(now), 1);
  g.wait_since = now - 150s;
  EXPECT_EQ(g.wait_minutes(now), 2);
  std::ostringstream out;
  gocxx::debug::write_goroutines(out, 2, {g});
  EXPECT_EQ(out.str().rfind("goroutine 7 [chan receive, 2 minutes]:\n", 0), 0u) << out.str();
  g.state = GoroutineState::runnable;  // only waiting goroutines show a duration
  EXPECT_EQ(g.wait_minutes(now), 0);
}

TEST(Goroutines, WaitGroupWaiterShowsSyncFrame) {
  run_with(2, [] {
    gocxx::sync::WaitGroup wg;
    wg.add(1);
    std::atomic<int> after{0};
    gocxx::detail::G* g = go_until_parked(WaitReason::kSyncWaitGroupWait,
                                          [&] { waits_for_group(wg, after); });
    auto all = gocxx::debug::goroutines();
    const Goroutine* rec = find_id(all, g->id);
    ASSERT_NE(rec, nullptr);
    EXPECT_EQ(rec->wait_reason, "sync.WaitGroup.Wait");
    EXPECT_TRUE(has_frame(*rec, "gocxx::sync::WaitGroup::wait"));
    EXPECT_TRUE(has_frame(*rec, "waits_for_group"));
    wg.done();
    gocxx::test::join_goroutines();
    EXPECT_EQ(after.load(), 1);
  });
}

TEST(Goroutines, AbandonedGoroutinesRemainVisibleAfterRun) {
  std::uint64_t leaked_id = 0;
  static gocxx::Chan<int> never;  // outlives the run: the abandoned goroutine holds it
  run_with(2, [&] {
    std::atomic<int> after{0};
    static std::atomic<int> sink{0};
    leaked_id = spawn_sender(never, sink);
    (void)after;
  });
  bool found = false;
  for (const Goroutine& g : gocxx::debug::goroutines()) {
    if (g.abandoned && g.id == leaked_id && has_frame(g, "blocked_sender")) found = true;
  }
  EXPECT_TRUE(found) << [] {
    std::ostringstream out;
    gocxx::debug::write_goroutines(out, 2);
    return out.str();
  }();
}

TEST(Goroutines, DumpWhileGoroutinesRunAndSwitch) {
  // Readers race with goroutines that park, wake and yield: every record must be coherent.
  run_with(2, [] {
    std::atomic<bool> stop{false};
    gocxx::Chan<int> ping, pong;
    gocxx::sync::WaitGroup done;
    done.add(3);
    gocxx::go([&] {
      while (!stop.load()) {
        ping.send(1);
        pong.recv();
      }
      ping.close();
      done.done();
    });
    gocxx::go([&] {
      for (int v : ping) pong.send(v);
      done.done();
    });
    gocxx::go([&] {
      while (!stop.load()) gocxx::yield();
      done.done();
    });
    for (int i = 0; i < gocxx::test::scaled(300); ++i) {
      for (const Goroutine& g : gocxx::debug::goroutines()) {
        if (g.abandoned) continue;
        if (g.state == GoroutineState::waiting) {
          EXPECT_TRUE(g.stack_available);
          EXPECT_FALSE(g.wait_reason.empty());
        }
        if (!g.stack_available) EXPECT_TRUE(g.frames.empty());
      }
      gocxx::yield();
    }
    stop.store(true);
    done.wait();
  });
}

TEST(Goroutines, ManyGoroutinesAllListed) {
  run_with(2, [] {
    const int kCount = gocxx::test::scaled(2000);
    gocxx::sync::WaitGroup started, release;
    release.add(1);
    started.add(kCount);
    std::atomic<int> after{0};
    for (int i = 0; i < kCount; ++i) {
      gocxx::go([&] {
        started.done();
        waits_for_group(release, after);
      });
    }
    started.wait();
    while (true) {
      int waiting = 0;
      for (const Goroutine& g : gocxx::debug::goroutines()) {
        waiting += !g.abandoned && g.wait_reason == "sync.WaitGroup.Wait";
      }
      if (waiting == kCount) break;
      gocxx::yield();
    }
    std::string text = dump(1);
    EXPECT_NE(text.find("\n" + std::to_string(kCount) + " @"), std::string::npos) << text;
    release.done();
    gocxx::test::join_goroutines();
    EXPECT_EQ(after.load(), kCount);
  });
}

// ---- crashes: SIGQUIT, GOCXX_TRACEBACK, deadlock --------------------------------------------

class DebugDeathTest : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

TEST_F(DebugDeathTest, SigquitDumpsAllGoroutinesAndExits2) {
  EXPECT_EXIT(run_with(2,
                       [] {
                         gocxx::Chan<int> ch;
                         std::atomic<int> after{0};
                         spawn_sender(ch, after);
                         raise(SIGQUIT);
                         for (;;) gocxx::time::sleep(1s);
                       }),
              ::testing::ExitedWithCode(2),
              AllOf(StartsWith("SIGQUIT: quit\n\ngoroutine 1 ["),
                    ContainsRegex("goroutine [0-9]+ \\[chan send\\]:.*blocked_sender")));
}

// Started with SIGQUIT ignored (`prog &` from a non-interactive shell): Go installs its handler
// anyway. The death test's process is fresh, so an ignore set before its first run is what an
// inherited one looks like.
TEST_F(DebugDeathTest, SigquitDumpsEvenWhenStartedIgnored) {
  EXPECT_EXIT(
      {
        unsetenv("GOCXX_SIGQUIT");
        signal(SIGQUIT, SIG_IGN);
        run_with(2, [] {
          raise(SIGQUIT);
          gocxx::time::sleep(20s);
        });
        std::_Exit(0);  // ignored: no dump
      },
      ::testing::ExitedWithCode(2), StartsWith("SIGQUIT: quit\n\ngoroutine 1 ["));
}

TEST_F(DebugDeathTest, SigquitIgnoredByTheProgramOrWithGocxxSigquit0StaysIgnored) {
  EXPECT_EXIT(
      {
        setenv("GOCXX_SIGQUIT", "0", 1);
        signal(SIGQUIT, SIG_IGN);
        run_with(1, [] { raise(SIGQUIT); });
        std::fprintf(stderr, "still running\n");
        std::_Exit(0);
      },
      ::testing::ExitedWithCode(0), "^still running\n$");
  EXPECT_EXIT(
      {
        unsetenv("GOCXX_SIGQUIT");
        run_with(1, [] {});          // the first run installs the dump
        signal(SIGQUIT, SIG_IGN);    // then the program ignores SIGQUIT itself
        run_with(1, [] { raise(SIGQUIT); });
        std::fprintf(stderr, "still running\n");
        std::_Exit(0);
      },
      ::testing::ExitedWithCode(0), "^still running\n$");
}

TEST_F(DebugDeathTest, SigquitHandlerOfTheProgramIsKept) {
  EXPECT_EXIT(
      {
        unsetenv("GOCXX_SIGQUIT");
        signal(SIGQUIT, [](int) {
          static const char msg[] = "own handler\n";
          (void)!write(2, msg, sizeof msg - 1);
          _exit(3);
        });
        run_with(1, [] {
          raise(SIGQUIT);
          for (;;) gocxx::time::sleep(1s);
        });
      },
      ::testing::ExitedWithCode(3), "^own handler\n$");
}

TEST_F(DebugDeathTest, TracebackAllShowsOtherGoroutinesOnPanic) {
  EXPECT_EXIT(
      {
        setenv("GOCXX_TRACEBACK", "all", 1);
        run_with(2, [] {
          gocxx::Chan<int> ch;
          std::atomic<int> after{0};
          spawn_sender(ch, after);
          gocxx::panic("boom");
        });
      },
      ::testing::ExitedWithCode(2),
      AllOf(StartsWith("panic: boom\n\ngoroutine 1 [running]:\n"),
            ContainsRegex("goroutine 2 \\[chan send\\]:.*blocked_sender")));
}

TEST_F(DebugDeathTest, TracebackSingleShowsOnlyThePanickingGoroutine) {
  EXPECT_EXIT(
      {
        unsetenv("GOCXX_TRACEBACK");
        run_with(2, [] {
          gocxx::Chan<int> ch;
          std::atomic<int> after{0};
          spawn_sender(ch, after);
          gocxx::panic("boom");
        });
        std::fprintf(stderr, "unreachable\n");
      },
      ::testing::ExitedWithCode(2),
      AllOf(StartsWith("panic: boom\n\ngoroutine 1 [running]:\n"), Not(HasSubstr("[chan send]")),
            Not(HasSubstr("created by"))));
}

TEST_F(DebugDeathTest, DeadlockIsReportedWithTheDump) {
  EXPECT_EXIT(run_with(2,
                       [] {
                         gocxx::Chan<int> ch;
                         std::atomic<int> after{0};
                         spawn_sender(ch, after);
                         gocxx::Chan<int> nobody;
                         nobody.recv();
                       }),
              ::testing::ExitedWithCode(2),
              AllOf(StartsWith("fatal error: all goroutines are asleep - deadlock!\n\n"
                               "goroutine 1 [chan receive]:\n"),
                    HasSubstr("\ngoroutine 2 [chan send]:\n")));
}

TEST_F(DebugDeathTest, DeadlockOnMutexWithOneProc) {
  EXPECT_EXIT(run_with(1,
                       [] {
                         gocxx::sync::Mutex mu;
                         mu.lock();
                         mu.lock();
                       }),
              ::testing::ExitedWithCode(2),
              StartsWith("fatal error: all goroutines are asleep - deadlock!\n\n"
                         "goroutine 1 [sync.Mutex.Lock]:\n"));
}

// A plain thread alive when everyone parks postpones the verdict; once it has exited without
// sending, the deadlock is reported (the idle runtime asks again).
TEST_F(DebugDeathTest, DeadlockIsReportedOnceThePlainThreadExits) {
  EXPECT_EXIT(run_with(2,
                       [] {
                         std::thread([] { std::this_thread::sleep_for(50ms); }).detach();
                         gocxx::Chan<int> nobody;
                         nobody.recv();
                       }),
              ::testing::ExitedWithCode(2),
              StartsWith("fatal error: all goroutines are asleep - deadlock!\n\n"
                         "goroutine 1 [chan receive]:\n"));
}

// The timer that woke the last goroutine still counts as pending until the timer thread
// publishes after firing it; the goroutine may block for good before that, with the last M
// already idle. The verdict must still come (it used to hang about 1 run in 75). Repeated
// because the window is narrow.
TEST_F(DebugDeathTest, DeadlockRightAfterATimerFiredIsReported) {
  for (int i = 0; i < 20; ++i) {
    EXPECT_EXIT(run_with(2,
                         [] {
                           gocxx::time::sleep(1ms);
                           gocxx::Chan<int> nobody;
                           nobody.recv();
                         }),
                ::testing::ExitedWithCode(2),
                StartsWith("fatal error: all goroutines are asleep - deadlock!\n\n"
                           "goroutine 1 [chan receive]:\n"));
  }
}

// No false positives: a program whose goroutines all wait, but on something that will come.

TEST(Checkdead, WaitingOnATimerIsNotADeadlock) {
  run_with(2, [] {
    gocxx::Chan<int> never;
    gocxx::go([never]() mutable { never.recv(); });
    int fired = 0;
    gocxx::select(gocxx::recv_case(gocxx::time::after(30ms), [&](auto) { fired = 1; }));
    EXPECT_EQ(fired, 1);
    gocxx::time::sleep(20ms);
    never.close();
    gocxx::test::join_goroutines();
  });
}

TEST(Checkdead, WaitingOnAPlainThreadIsNotADeadlock) {
  run_with(2, [] {
    gocxx::Chan<int> ch;
    std::thread sender([ch]() mutable {
      std::this_thread::sleep_for(30ms);  // not yet a participant when everyone parks
      ch.send(42);
    });
    EXPECT_EQ(ch.recv(), 42);
    sender.join();
  });
}

TEST(Checkdead, WaitingOnAfterFuncIsNotADeadlock) {
  run_with(1, [] {
    gocxx::Chan<int> done;
    auto [ctx, cancel] = gocxx::context::with_timeout(gocxx::context::background(), 20ms);
    gocxx::context::after_func(ctx, [done]() mutable { done.close(); });
    EXPECT_FALSE(done.recv().has_value());
  });
}

TEST(Checkdead, WaitingOnABlockingCallIsNotADeadlock) {
  run_with(1, [] {
    gocxx::Chan<int> ch;
    gocxx::go([ch]() mutable {
      int v = gocxx::blocking([] {
        std::this_thread::sleep_for(30ms);
        return 7;
      });
      ch.send(v);
    });
    EXPECT_EQ(ch.recv(), 7);
  });
}

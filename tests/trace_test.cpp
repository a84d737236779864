// The execution trace (gocxx/trace.hpp): the file is parsed (trace_check.hpp) and checked for
// the structure Perfetto and chrome://tracing need, and for the scheduler events a small program
// must produce. No timing is asserted.
#include <gocxx/trace.hpp>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>

#include "test_util.hpp"
#include "trace_check.hpp"

using namespace std::chrono_literals;
using gocxx::detail::WaitReason;
using gocxx::test::go_until_parked;
using gocxx::test::load_and_check;
using gocxx::test::Trace;
using gocxx::test::TraceJson;
using gocxx::test::run_with;
using ::testing::HasSubstr;

namespace {

std::string temp_path(const std::string& name) {
  const char* dir = std::getenv("TMPDIR");
  return std::string(dir && *dir ? dir : "/tmp") + "/gocxx_trace_test_" + std::to_string(getpid()) +
         "_" + name + ".json";
}

// ---- the traced program ---------------------------------------------------------------------

[[gnu::noinline]] void start_echo(gocxx::Chan<int> ping, gocxx::Chan<int> pong) {
  gocxx::go([ping, pong]() mutable {
    for (int v : ping) pong.send(v);
  });
}

void ping_pong(int rounds) {
  gocxx::Chan<int> ping, pong;
  start_echo(ping, pong);
  for (int i = 0; i < rounds; ++i) {
    ping.send(i);
    pong.recv();
  }
  ping.close();
}

// Goroutines ping-ponging over channels, one blocked on a WaitGroup and released, a sleep, a
// blocking call and a plain thread.
void traced_program() {
  ping_pong(200);
  gocxx::sync::WaitGroup wg;
  wg.add(1);
  gocxx::Chan<int> done;
  go_until_parked(WaitReason::kSyncWaitGroupWait, [&wg, done]() mutable {
    wg.wait();
    done.send(1);
  });
  wg.done();
  done.recv();
  gocxx::time::sleep(2ms);
  gocxx::blocking([] { return ::usleep(1000); });
  // A plain thread that sends (and so records on the "no P" track) and exits while tracing.
  gocxx::Chan<int> from_thread;
  std::thread sender([from_thread]() mutable { from_thread.send(7); });
  from_thread.recv();
  sender.join();
  gocxx::test::join_goroutines();
}

TEST(Trace, SchedulerEventsAreRecorded) {
  std::string path = temp_path("events");
  run_with(2, [&] {
    EXPECT_FALSE(gocxx::trace::enabled());
    gocxx::trace::start(path);
    EXPECT_TRUE(gocxx::trace::enabled());
    traced_program();
    gocxx::trace::stop();
    EXPECT_FALSE(gocxx::trace::enabled());
  });
  Trace t = load_and_check(path);
  EXPECT_EQ(t.dropped, 0u);
  EXPECT_EQ(t.thread_names[0], "P0");
  EXPECT_EQ(t.thread_names[1], "P1");

  auto slices = t.with("X");
  ASSERT_FALSE(slices.empty());
  std::set<std::string> ends;
  bool echo_named = false;
  for (const TraceJson* x : slices) {
    ends.insert(Trace::str(x->at("args"), "end"));
    echo_named |= Trace::str(*x, "name").find("start_echo") != std::string::npos;
  }
  EXPECT_TRUE(echo_named) << "slices are named after the function that called go()";
  EXPECT_TRUE(ends.count("block"));
  EXPECT_TRUE(ends.count("exit"));
  EXPECT_TRUE(ends.count("blocking"));

  EXPECT_GE(t.instants("go ").size(), 2u);  // the echo and the WaitGroup waiter
  for (const char* reason : {"chan receive", "sync.WaitGroup.Wait", "sleep"}) {
    EXPECT_TRUE(t.has_reason("block ", reason)) << reason;
    EXPECT_TRUE(t.has_reason("unblock ", reason)) << reason;
  }
  // The sleeper (main) is woken by the timer thread: that unblock is on the "no P" track.
  bool sleep_wake_off_p = false;
  for (const TraceJson* e : t.instants("unblock ")) {
    if (Trace::str(e->at("args"), "reason") == "sleep") {
      sleep_wake_off_p |= t.thread_names[e->at("tid").get<int>()].rfind("no P", 0) == 0;
    }
  }
  EXPECT_TRUE(sleep_wake_off_p);
  EXPECT_FALSE(t.with("s").empty());
  EXPECT_FALSE(t.with("C").empty());
  std::remove(path.c_str());
}

TEST(Trace, BoundedMemoryDropsEventsAndStaysValid) {
  std::string path = temp_path("bounded");
  run_with(2, [&] {
    gocxx::trace::start(path, {.max_bytes = 1, .keep = gocxx::trace::Keep::oldest});  // 1 chunk
    ping_pong(gocxx::test::scaled(20000) + 2000);
    gocxx::trace::stop();
  });
  Trace t = load_and_check(path);
  EXPECT_GT(t.dropped, 0u);
  EXPECT_FALSE(t.with("X").empty());
  bool truncated = false;
  for (const TraceJson* e : t.with("i")) {
    truncated |= Trace::str(*e, "name").rfind("trace truncated", 0) == 0;
  }
  EXPECT_TRUE(truncated);
  std::remove(path.c_str());
}

// A goroutine created by a function of its own name, for a trace to mention or not.
[[gnu::noinline]] void early_marker() {
  gocxx::Chan<int> done;
  gocxx::go([done]() mutable { done.send(1); });
  done.recv();
}

TEST(Trace, KeepNewestRecyclesTheOldestChunksAndStaysValid) {
  std::string path = temp_path("newest");
  run_with(2, [&] {
    gocxx::trace::start(path, {.max_bytes = 256 << 10});  // 8 chunks, the newest kept
    early_marker();
    ping_pong(gocxx::test::scaled(50000) + 5000);
    gocxx::trace::stop();
  });
  Trace t = load_and_check(path);
  EXPECT_EQ(t.dropped, 0u);
  EXPECT_GT(t.overwritten, 0u);
  EXPECT_FALSE(t.mentions("early_marker")) << "the beginning was overwritten";
  EXPECT_TRUE(t.mentions("start_echo"));
  bool window_start = false;
  for (const TraceJson* e : t.with("i")) {
    window_start |= Trace::str(*e, "name").rfind("trace window start: ", 0) == 0;
  }
  EXPECT_TRUE(window_start);
  std::remove(path.c_str());
}

TEST(Trace, StartTwiceIsALogicErrorAndStopIsIdempotent) {
  std::string path = temp_path("twice");
  run_with(1, [&] {
    gocxx::trace::start(path);
    EXPECT_THROW(gocxx::trace::start(path), std::logic_error);
    EXPECT_TRUE(gocxx::trace::enabled());
    gocxx::trace::stop();
    gocxx::trace::stop();
    EXPECT_FALSE(gocxx::trace::enabled());
  });
  load_and_check(path);
  gocxx::trace::stop();  // outside a run, nothing active: still nothing
  std::remove(path.c_str());
}

TEST(Trace, UnopenablePathIsARuntimeError) {
  std::string path = "/nonexistent-gocxx-dir/trace.json";
  try {
    gocxx::trace::start(path);
    ADD_FAILURE() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr(path));
    EXPECT_THAT(e.what(), HasSubstr("No such file or directory"));
  }
  EXPECT_FALSE(gocxx::trace::enabled());
}

TEST(Trace, EnvironmentVariableTracesTheRun) {
  std::string path = temp_path("env");
  ::setenv("GOCXX_TRACE", path.c_str(), 1);
  run_with(2, [] {
    EXPECT_TRUE(gocxx::trace::enabled());
    ping_pong(50);
  });
  ::unsetenv("GOCXX_TRACE");
  EXPECT_FALSE(gocxx::trace::enabled());  // the end of the run wrote it
  Trace t = load_and_check(path);
  bool main_slice = false;
  for (const TraceJson* x : t.with("X")) main_slice |= Trace::str(*x, "name").rfind("G1 ", 0) == 0;
  EXPECT_TRUE(main_slice);
  std::remove(path.c_str());
}

TEST(Trace, UnusableEnvironmentPathIsReportedAndTheRunGoesOn) {
  ::setenv("GOCXX_TRACE", "/nonexistent-gocxx-dir/trace.json", 1);
  ::testing::internal::CaptureStderr();
  bool ran = false;
  run_with(1, [&] {
    ran = true;
    EXPECT_FALSE(gocxx::trace::enabled());
  });
  std::string err = ::testing::internal::GetCapturedStderr();
  ::unsetenv("GOCXX_TRACE");
  EXPECT_TRUE(ran);
  EXPECT_THAT(err, HasSubstr("GOCXX_TRACE=/nonexistent-gocxx-dir/trace.json"));
}

TEST(Trace, StartedBeforeARunIsStoppedByItsEnd) {
  std::string path = temp_path("before");
  gocxx::trace::start(path);
  run_with(2, [] { ping_pong(20); });
  EXPECT_FALSE(gocxx::trace::enabled());
  Trace t = load_and_check(path);
  EXPECT_FALSE(t.with("X").empty());
  std::remove(path.c_str());
}

}  // namespace

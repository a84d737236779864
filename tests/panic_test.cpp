// Crash reports: gocxx::panic, exceptions escaping goroutines, and their Go-format output.
#include <stdexcept>
#include <thread>

#include "test_util.hpp"

using gocxx::test::in_goroutine;
using gocxx::test::run_with;

namespace {

[[gnu::noinline]] void panicking_function() { gocxx::panic("something went wrong"); }

[[gnu::noinline]] void throwing_function() { throw std::runtime_error("escaped exception"); }

struct NotAnException {};
[[gnu::noinline]] void throwing_non_exception() { throw NotAnException{}; }


}  // namespace

class PanicDeathTest : public testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

TEST_F(PanicDeathTest, PanicPrintsGoReportAndExits2) {
  EXPECT_EXIT(in_goroutine(panicking_function), testing::ExitedWithCode(2),
              "^panic: something went wrong\n\ngoroutine 2 \\[running\\]:\n"
              "(.|\n)*panicking_function\\(\\.\\.\\.\\)\n\t.*panic_test.cpp:[0-9]+ \\+0x"
              "(.|\n)*created by gocxx::test::in_goroutine.* in goroutine 1\n\t.*test_util.hpp:[0-9]+");
}

TEST_F(PanicDeathTest, PanicInMainGoroutine) {
  EXPECT_EXIT(run_with(1, [] { gocxx::panic("in main"); }), testing::ExitedWithCode(2),
              "^panic: in main\n\ngoroutine 1 \\[running\\]:");
}

TEST_F(PanicDeathTest, EscapingExceptionIsAPanicAtTheThrowSite) {
  EXPECT_EXIT(in_goroutine(throwing_function), testing::ExitedWithCode(2),
              "^panic: escaped exception\n\ngoroutine 2 \\[running\\]:\n"
              "(.|\n)*throwing_function\\(\\.\\.\\.\\)\n\t.*panic_test.cpp:[0-9]+");
}

TEST_F(PanicDeathTest, EscapingExceptionFromMainGoroutine) {
  EXPECT_EXIT(run_with(2, [] { throwing_function(); }), testing::ExitedWithCode(2),
              "^panic: escaped exception\n\ngoroutine 1 \\[running\\]:");
}

TEST_F(PanicDeathTest, NonStdExceptionIsNamed) {
  EXPECT_EXIT(in_goroutine(throwing_non_exception), testing::ExitedWithCode(2),
              "^panic: unknown C\\+\\+ exception");
}

TEST_F(PanicDeathTest, PanicOnPlainThread) {
  EXPECT_EXIT(gocxx::test::on_plain_thread([] { gocxx::panic("from a thread"); }),
              testing::ExitedWithCode(2),
              "^panic: from a thread\n\nthread \\[running\\]:");
}

TEST(Panic, CaughtExceptionsInsideGoroutinesAreNotPanics) {
  int caught = 0;
  run_with(2, [&] {
    gocxx::Chan<int> done;
    gocxx::go([&caught, done]() mutable {
      try {
        throwing_function();
      } catch (const std::runtime_error&) {
        ++caught;
      }
      done.send(1);
    });
    done.recv();
  });
  EXPECT_EQ(caught, 1);
}

// ---- "created by": Go omits "in goroutine 0"; after_func's goroutine names after_func ------

namespace {
[[gnu::noinline]] void spawn_panicking_goroutine() { gocxx::go(panicking_function); }
}  // namespace

TEST_F(PanicDeathTest, GoroutineStartedByAThreadNamesNoParentGoroutine) {
  EXPECT_EXIT(run_with(2,
                       [] {
                         std::thread spawner(spawn_panicking_goroutine);
                         gocxx::test::join(spawner);
                         gocxx::Chan<int> never;
                         never.recv();
                       }),
              testing::ExitedWithCode(2),
              "^panic: something went wrong\n\ngoroutine 2 \\[running\\]:\n(.|\n)*"
              "created by [^\n]*spawn_panicking_goroutine\n\t[^\n]*panic_test.cpp:[0-9]+ \\+0x");
}

TEST_F(PanicDeathTest, AfterFuncGoroutineIsCreatedByAfterFunc) {
  // Go: "created by time.goFunc".
  EXPECT_EXIT(run_with(2,
                       [] {
                         gocxx::time::after_func(std::chrono::milliseconds(1),
                                                 [] { gocxx::panic("in timer"); });
                         gocxx::Chan<int> never;
                         never.recv();
                       }),
              testing::ExitedWithCode(2),
              "^panic: in timer\n\ngoroutine 2 \\[running\\]:\n(.|\n)*"
              "created by gocxx::time::after_func\n\t[^\n]*timer.cpp:[0-9]+ \\+0x[0-9a-f]+\n$");
}

TEST_F(PanicDeathTest, AfterFuncThreadWithoutARunIsCreatedByAfterFunc) {
  // No run active: a thread stands in for the goroutine, and says who started it.
  EXPECT_EXIT(
      {
        gocxx::time::after_func(std::chrono::milliseconds(1), [] { gocxx::panic("in timer"); });
        std::this_thread::sleep_for(std::chrono::seconds(60));
      },
      testing::ExitedWithCode(2),
      "^panic: in timer\n\nthread \\[running\\]:\n(.|\n)*"
      "created by gocxx::time::after_func\n\t[^\n]*timer.cpp:[0-9]+ \\+0x[0-9a-f]+\n$");
}

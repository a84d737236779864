// Crash reports: gocxx::panic, exceptions escaping goroutines, and their Go-format output.
#include <stdexcept>
#include <thread>

#include "test_util.hpp"

using gocxx::test::run_with;

namespace {

[[gnu::noinline]] void panicking_function() { gocxx::panic("something went wrong"); }

[[gnu::noinline]] void throwing_function() { throw std::runtime_error("escaped exception"); }

struct NotAnException {};
[[gnu::noinline]] void throwing_non_exception() { throw NotAnException{}; }

// Spawns f in a goroutine and waits for it forever (the panic ends the process first).
template <class F>
void in_goroutine(F f) {
  run_with(2, [f] {
    gocxx::Chan<int> never;
    gocxx::go([f] { f(); });
    never.recv();
  });
}

}  // namespace

class PanicDeathTest : public testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

TEST_F(PanicDeathTest, PanicPrintsGoReportAndExits2) {
  EXPECT_EXIT(in_goroutine(panicking_function), testing::ExitedWithCode(2),
              "^panic: something went wrong\n\ngoroutine 2 \\[running\\]:\n"
              "(.|\n)*panicking_function\\(\\.\\.\\.\\)\n\t.*panic_test.cpp:[0-9]+ \\+0x"
              "(.|\n)*created by .* in goroutine 1\n\t.*panic_test.cpp:[0-9]+");
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

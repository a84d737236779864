// GoogleTest integration of gocxx::leakcheck (header-only: the gocxx library itself does not
// depend on GoogleTest).
//
// One test:
//   TEST(Pool, StopsItsWorkers) {
//     gocxx::run([] { ... });
//     GOCXX_VERIFY_NONE();                                    // or with leakcheck::Options
//   }
//
// Every test of a binary: register the listener from main (or use the macro, which is this main):
//   int main(int argc, char** argv) {
//     ::testing::InitGoogleTest(&argc, argv);
//     gocxx::leakcheck::install_gtest_listener();             // optional leakcheck::Options
//     return RUN_ALL_TESTS();
//   }
//   GOCXX_LEAKCHECK_GTEST_MAIN()                               // the same five lines
//
// The listener takes a baseline when each test starts (goroutines alive then, such as those an
// earlier test leaked, are not reported again) and checks when it ends, with verify_none's
// retries. Leaks become a non-fatal failure of that test, at the test's file:line, naming each
// goroutine's id, state, top frame, creation site and its traceback. See docs/diagnostics.md.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "gocxx/leakcheck.hpp"

namespace gocxx::leakcheck {

// Adds a non-fatal GoogleTest failure at file:line if check(options) finds leaks.
inline void expect_none_at(const char* file, int line, const Options& options = {}) {
  std::vector<Leak> leaks = check(options);
  if (!leaks.empty()) ADD_FAILURE_AT(file, line) << describe(leaks);
}

// Checks after every test for goroutines the test leaked.
class GTestListener : public ::testing::EmptyTestEventListener {
 public:
  explicit GTestListener(Options options = {}) : options_(std::move(options)) {}

  // Goroutines alive now are not the coming test's leaks.
  void begin() { baseline_ = Baseline::current(); }
  // The leaks since begin() (with retries), as the failure text; empty if there are none.
  std::string end() const {
    Options options = options_;
    options.ignore(baseline_);
    return describe(check(options));
  }

  void OnTestStart(const ::testing::TestInfo&) override { begin(); }
  void OnTestEnd(const ::testing::TestInfo& test) override {
    std::string failure = end();
    if (failure.empty()) return;
    // Still inside the test's result: the failure counts against this test.
    ADD_FAILURE_AT(test.file() ? test.file() : "unknown file", test.line())
        << "gocxx::leakcheck: test " << test.test_suite_name() << "." << test.name()
        << " leaked goroutines\n"
        << failure;
  }

 private:
  Options options_;
  Baseline baseline_;
};

// Appends a GTestListener (GoogleTest owns it) after the default printer, so that the failure
// is printed and the test is reported FAILED.
inline void install_gtest_listener(Options options = {}) {
  ::testing::UnitTest::GetInstance()->listeners().Append(new GTestListener(std::move(options)));
}

}  // namespace gocxx::leakcheck

// Fails the current test (non-fatally) if goroutines leaked; takes optional leakcheck::Options.
#define GOCXX_VERIFY_NONE(...) \
  ::gocxx::leakcheck::expect_none_at(__FILE__, __LINE__ __VA_OPT__(, ) __VA_ARGS__)

// Defines main(): GoogleTest with a leak check after every test.
#define GOCXX_LEAKCHECK_GTEST_MAIN()                   \
  int main(int argc, char** argv) {                    \
    ::testing::InitGoogleTest(&argc, argv);            \
    ::gocxx::leakcheck::install_gtest_listener();      \
    return RUN_ALL_TESTS();                            \
  }

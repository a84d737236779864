// Helpers shared by the tests.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <thread>
#include <gocxx/gocxx.hpp>

namespace gocxx::test {

// Scales iteration counts of stress loops: sanitizer builds run them 10x smaller.
inline int scaled(int n) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  return n / 10 > 0 ? n / 10 : 1;
#else
  return n;
#endif
}

// Runs body as the main goroutine of a fresh run with `procs` Ps.
template <class F>
void run_with(int procs, F&& body) {
  gocxx::run(std::forward<F>(body), gocxx::Options{.procs = procs});
}

// Runs f on a plain thread with nothing to catch what it throws, so a panic there ends the
// process with Go's report (inside a test body, GoogleTest would catch the exception).
template <class F>
void on_plain_thread(F f) {
  std::thread(std::move(f)).join();
}

}  // namespace gocxx::test

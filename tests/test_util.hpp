// Helpers shared by the tests.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <gocxx/gocxx.hpp>

#include "runtime/goroutine.hpp"

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

// Runs f in a goroutine of a fresh run and waits forever: for death tests, where what f does
// (a panic, a fault) ends the process first.
template <class F>
void in_goroutine(F f) {
  run_with(2, [f] {
    gocxx::Chan<int> never;
    gocxx::go([f] { f(); });
    never.recv();
  });
}

// Runs f on a plain thread with nothing to catch what it throws, so a panic there ends the
// process with Go's report (inside a test body, GoogleTest would catch the exception).
template <class F>
void on_plain_thread(F f) {
  std::thread(std::move(f)).join();
}

// True once goroutine g is parked for `reason`. Every runtime queue takes the waiter before it
// parks, so when this holds g is in the queue of the operation that parked it.
inline bool parked_for(gocxx::detail::G* g, gocxx::detail::WaitReason reason) {
  auto status = g->status.load(std::memory_order_acquire) & ~gocxx::detail::kScanBit;
  return status == gocxx::detail::kWaiting &&
         g->wait_reason.load(std::memory_order_acquire) == reason;
}

// Spawns `body` as a goroutine and returns once it has parked for `reason`: an exact condition
// instead of Go's "sleep so that it surely blocks". The body's first park for `reason` must be
// the operation the test wants queued.
template <class F>
gocxx::detail::G* go_until_parked(gocxx::detail::WaitReason reason, F body) {
  std::atomic<gocxx::detail::G*> who{nullptr};
  gocxx::go([&who, body = std::move(body)]() mutable {
    who.store(gocxx::detail::current_g(), std::memory_order_release);
    body();
  });
  gocxx::detail::G* g;
  while ((g = who.load(std::memory_order_acquire)) == nullptr) gocxx::yield();
  while (!parked_for(g, reason)) gocxx::yield();
  return g;
}

// Waits until every goroutine but the caller has exited. A run abandons goroutines that are
// still queued when main returns (as Go does), and those never release what their closures
// hold; tests call this before returning. Gives up (failing) after a generous deadline so that
// a broken test does not hang.
inline void join_goroutines() {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (gocxx::num_goroutine() > 1) {
    if (std::chrono::steady_clock::now() > deadline) {
      ADD_FAILURE() << gocxx::num_goroutine() - 1 << " goroutine(s) never exited";
      return;
    }
    gocxx::yield();
  }
}

// Runs body as the main goroutine with `procs` Ps, then waits for the goroutines it started.
template <class F>
void run_joined(int procs, F&& body) {
  run_with(procs, [&body] {
    body();
    join_goroutines();
  });
}

// Runs f and returns the message of the panic it raises (recovered with gocxx::recover()), or
// "<no panic>".
template <class F>
std::string panic_message(F f) {
  std::string message = "<no panic>";
  gocxx::func([&](gocxx::Defer& defer) {
    defer([&] {
      if (auto p = gocxx::recover()) message = p->message();
    });
    f();
  });
  return message;
}

// True when c is done (its done channel is closed), without blocking.
inline bool is_done(const gocxx::context::Context& c) {
  bool done = false;
  gocxx::select(gocxx::recv_case(c.done(), [&] { done = true; }), gocxx::default_case());
  return done;
}

// Polls pred (sleeping 1 ms between tries) until it holds; a liveness check, not a timing one.
template <class P>
bool eventually(P pred) {
  for (int i = 0; i < 20000; ++i) {
    if (pred()) return true;
    gocxx::time::sleep(std::chrono::milliseconds(1));
  }
  return pred();
}

// Runs f (which calls gocxx::run) on a thread of its own and ends the process with a message
// if f has not returned after `limit`: a regression that hangs a run reports itself instead
// of waiting for the test runner's timeout, with a dump of every goroutine (SIGQUIT). A
// liveness bound, far above the expected time.
template <class F>
void expect_returns(F f, const char* what, std::chrono::seconds limit = std::chrono::seconds(120)) {
  std::atomic<std::uint32_t> done{0};
  std::thread t([&] {
    f();
    done.store(1, std::memory_order_release);
  });
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (done.load(std::memory_order_acquire) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      std::fprintf(stderr, "FAILED: %s did not return within %lld s (hung)\n", what,
                   static_cast<long long>(limit.count()));
      std::fflush(stderr);
      std::raise(SIGQUIT);  // the run's handler dumps every goroutine and exits 2
      std::this_thread::sleep_for(std::chrono::seconds(5));
      std::_Exit(1);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  t.join();
}

// Joins a plain thread from a goroutine without holding up the goroutine's P.
inline void join(std::thread& t) {
  gocxx::blocking([&] { t.join(); });
}

}  // namespace gocxx::test

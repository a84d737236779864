// gocxx::leakcheck — goroutine leak checks for tests, with uber-go/goleak's semantics: after a
// test, every goroutine other than the caller (and those it was told to ignore) is a leak.
//
//   gocxx::leakcheck::verify_none();                       // throws LeakError listing the leaks
//   auto leaks = gocxx::leakcheck::find();                  // one look, no retries
//   auto opts = gocxx::leakcheck::Options{}.ignore_current().ignore_created_by("pool::start");
//
// GoogleTest: include gocxx/leakcheck_gtest.hpp (GOCXX_VERIFY_NONE(), a per-test listener).
// See docs/diagnostics.md, "Leak check".
//
// What counts:
//   * every goroutine that has not exited, in any state, except the calling goroutine;
//   * goroutines abandoned by a gocxx::run that has returned ARE leaks (debug::Goroutine::
//     abandoned is set): they are parked forever and still hold what their closures captured.
//     A check after run() returns therefore finds everything the run left behind. They can never
//     exit, so the retries stop early once only abandoned goroutines remain;
//   * goroutines alive when Options::ignore_current() ran are not, in whatever run they are.
#pragma once

#include <chrono>
#include <compare>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "gocxx/debug.hpp"

namespace gocxx::leakcheck {

// A leaked goroutine: its record as debug::goroutines() gives it (id, state and wait reason,
// frames innermost first, created_by = the function that called go(), abandoned).
using Leak = debug::Goroutine;

// Goroutines alive at one moment. A goroutine's identity is its run (every gocxx::run gets a
// new process-wide number) and its id within that run: ids restart at 1 in each run, so an id
// alone would confuse goroutine 5 of this test's run with goroutine 5 of the previous one.
class Baseline {
 public:
  Baseline() = default;             // empty: ignores nothing
  static Baseline current();        // every goroutine alive now, the caller included
  std::size_t size() const { return keys_ ? keys_->size() : 0; }

  struct Key {
    std::uint64_t run = 0;
    std::uint64_t id = 0;
    friend auto operator<=>(const Key&, const Key&) = default;
  };
  bool contains(Key key) const;
  void merge(const Baseline& other);

 private:
  std::shared_ptr<const std::vector<Key>> keys_;  // sorted; shared, as Options are copied
};

// What to ignore, and how long to wait for goroutines that are still finishing. Function names
// are as debug::Frame::function shows them: demangled, without the parameter list
// ("app::Pool::worker", "app::serve(int)::<lambda()>::operator()"). A name matches exactly, or,
// when it ends in '*', as a prefix ("app::Pool::*"). The setters return *this to chain.
struct Options {
  std::vector<std::string> top_functions;  // ignore if the innermost frame is one of these
  std::vector<std::string> any_functions;  // ignore if any frame is one of these
  std::vector<std::string> created_by;     // ignore if created_by.function is one of these
  Baseline baseline;                       // ignore the goroutines it holds
  // Retries of verify_none()/check(): sleep 1 µs, doubling, at most max_sleep, up to
  // max_retries times (goleak: 20 and 100 ms, about 0.43 s in all before giving up).
  int max_retries = 20;
  std::chrono::nanoseconds max_sleep = std::chrono::milliseconds(100);

  Options& ignore_top_function(std::string function);
  Options& ignore_any_function(std::string function);
  Options& ignore_created_by(std::string function);
  // goleak's IgnoreCurrent: goroutines alive now are not leaks (added to the baseline).
  Options& ignore_current();
  Options& ignore(const Baseline& goroutines);
};

// One look: the goroutines that are leaks right now (no retries). Call it from a goroutine or
// from a plain thread, inside or outside gocxx::run.
std::vector<Leak> find(const Options& options = {});

// goleak's Find: looks until no leak is left, retrying with backoff while goroutines may still
// be on their way out; returns the leaks of the last look (empty: none). Sleeps with
// time::sleep, so a goroutine calling it does not hold up its P.
std::vector<Leak> check(const Options& options = {});

// Thrown by verify_none(); what() is describe(leaks()).
class LeakError : public std::runtime_error {
 public:
  explicit LeakError(std::vector<Leak> leaks);
  const std::vector<Leak>& leaks() const noexcept { return *leaks_; }

 private:
  std::shared_ptr<const std::vector<Leak>> leaks_;
};

// check(), then throws LeakError if anything leaked.
void verify_none(const Options& options = {});

// The failure text: a count, then for each leak one summary line
//   Goroutine 7 in state chan send, with app::send_result at /src/app.cpp:41 on top of the
//   stack, created by app::start at /src/app.cpp:50 in goroutine 1[, abandoned by a finished run]:
// followed by its traceback in Go's format (debug::write_goroutine). Empty for no leaks.
std::string describe(const std::vector<Leak>& leaks);

}  // namespace gocxx::leakcheck

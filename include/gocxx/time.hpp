// gocxx::time — Go's package time: sleep, after, Timer, Ticker, after_func.
//
// Times are std::chrono::steady_clock time points; durations are any std::chrono duration.
// Timers follow Go 1.23 semantics: after stop() or reset() returns, no value from the old
// schedule can be received from c(). Destroying a Timer or Ticker stops it (RAII).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

#include "gocxx/chan.hpp"

namespace gocxx::time {

using Clock = std::chrono::steady_clock;
using Duration = std::chrono::nanoseconds;
using TimePoint = Clock::time_point;

// The current time on the monotonic clock (Go's time.Now for deadlines and elapsed time).
inline TimePoint now() { return Clock::now(); }

// Pauses the calling goroutine (wait reason "sleep") or plain thread. d <= 0 returns at once.
void sleep(Duration d);

// A channel that receives the time once, after d (Go's time.After, a <-chan Time).
RecvChan<TimePoint> after(Duration d);

namespace detail {
struct TimerState;
void timer_release(TimerState* t) noexcept;
}  // namespace detail

// Go's time.Timer: c() receives the time once the timer fires.
class Timer {
 public:
  explicit Timer(Duration d);
  Timer(Timer&& other) noexcept;
  Timer& operator=(Timer&& other) noexcept;
  ~Timer();

  RecvChan<TimePoint> c() const { return chan_; }  // Go's t.C, a <-chan Time
  // Stops the timer; true if this stopped a pending timer, false if it had fired (and its
  // value was received) or been stopped. As in Go 1.23, a value sent but not yet received is
  // discarded and counts as pending.
  bool stop();
  // Reschedules the timer for d from now; true if the timer was pending (as for stop()).
  bool reset(Duration d);

 private:
  friend Timer after_func(Duration d, std::function<void()> f);
  Timer(detail::TimerState* state, RecvChan<TimePoint> chan)
      : state_(state), chan_(std::move(chan)) {}
  detail::TimerState* state_;
  RecvChan<TimePoint> chan_;
};

// Runs f in its own goroutine after d (Go's time.AfterFunc). The returned Timer's c() is nil;
// stop() prevents f from running if it has not started. Unlike other Timers, destroying the
// returned object does not stop it (the callback is fire-and-forget, as in Go).
Timer after_func(Duration d, std::function<void()> f);

// Go's time.Ticker: c() receives the time every period; slow receivers miss ticks (cap 1).
class Ticker {
 public:
  explicit Ticker(Duration period);  // period must be > 0 (Go panics otherwise)
  Ticker(Ticker&& other) noexcept;
  Ticker& operator=(Ticker&& other) noexcept;
  ~Ticker();

  RecvChan<TimePoint> c() const { return chan_; }  // Go's t.C, a <-chan Time
  void stop();
  void reset(Duration period);

 private:
  detail::TimerState* state_;
  RecvChan<TimePoint> chan_;
};

}  // namespace gocxx::time

// The timer queue's view for the rest of the runtime (the API is gocxx/time.hpp).
#pragma once

#include <cstddef>
#include <cstdint>

namespace gocxx::time::detail {

// Timers that will still fire: the heap's size as last published, read with no lock. A fired
// timer still counts until its work is queued (the size is published after each fire, not at
// the pop before it), so an after_func's goroutine exists before the count drops. Deadlock
// detection needs 0; tests count it to prove contexts release their timers.
std::size_t timers_pending();
// True if a pending timer is due (as last published): it may be firing right now, its
// goroutine already readied and run while the count still includes it. Deadlock detection
// then asks again shortly instead of trusting the count.
bool timer_due();

// A runtime timer that calls f(arg, seq) on the timer thread (the network poller's deadlines).
// f runs with the timer lock held: it must not block, and may take only locks ranked after
// kTimers (lockrank.hpp), such as the scheduler's through ready(). The owner keeps the timer
// for as long as it likes (never freed by the heap) and frees it with delete_callback_timer
// once it is stopped.
struct TimerState;
using TimerCallback = void (*)(void* arg, std::uintptr_t seq);
TimerState* new_callback_timer(TimerCallback f, void* arg);
void delete_callback_timer(TimerState* t);
// Arms t to fire at `when` (monotonic ns) with `seq`, replacing any pending arming.
void reset_callback_timer(TimerState* t, std::int64_t when, std::uintptr_t seq);
// Disarms t. Once this returns, f is not running for t and will not run until t is re-armed.
void stop_callback_timer(TimerState* t);

}  // namespace gocxx::time::detail

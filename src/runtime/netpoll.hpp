// The network poller (Go's runtime/netpoll.go and netpoll_epoll.go): one epoll instance for the
// process, a poll descriptor per registered fd, and the scheduler's hooks into it. The I/O
// layer (src/pkg/net) uses the pd_* calls; the scheduler uses netpoll_*.
//
// Protocol for an I/O call (internal/poll's fd.Read):
//   if (pd_prepare(pd, mode) != ok) fail;
//   for (;;) {
//     n = ::read(...);                      // always try the call first
//     if (n >= 0 || errno != EAGAIN) break;
//     if (pd_wait(pd, mode) != ok) fail;    // parks ("IO wait") until an edge, close, deadline
//   }
// Only one call per direction may wait at a time (the I/O layer serializes them, as Go's
// fdMutex does); a second is a fatal "netpoll: double wait".
#pragma once

#include <cstdint>

namespace gocxx::detail {

struct G;
struct PollDesc;

enum PollMode : int { kPollRead = 1, kPollWrite = 2, kPollReadWrite = 3 };

// Go's pollNoError, pollErrClosing, pollErrTimeout.
enum class PollError { kNone, kClosing, kTimeout };

// Registers a non-blocking fd with the poller (edge-triggered, once, for both directions).
// nullptr and *error = errno if epoll refuses it (a regular file: EPERM).
PollDesc* pd_open(int fd, int* error);
// Unregisters the fd and recycles the descriptor; events still in flight for it are dropped.
// Call before close(2), once no call uses pd any more.
void pd_close(PollDesc* pd);
// Marks pd closing and wakes both directions' waiters (they fail with kClosing); later calls
// fail at once. Go's poll_runtime_pollUnblock.
void pd_evict(PollDesc* pd);
// Checks closing and the direction's deadline before an I/O attempt (Go's pollReset).
PollError pd_prepare(PollDesc* pd, int mode);
// Waits until the fd may be ready for mode (one direction): parks a goroutine with wait
// reason "IO wait", or blocks a plain thread in ppoll. kNone means "try the call again".
PollError pd_wait(PollDesc* pd, int mode);
// Whether the poller has seen the peer hang up or the socket fail (EPOLLRDHUP, HUP or ERR)
// since pd_open. Until it has, every byte that arrives after a read produces an edge.
bool pd_hung_up(const PollDesc* pd);
// Sets the deadline of mode's directions: an absolute monotonic time in ns; 0 means none; a
// time that has passed expires at once (blocked calls fail with kTimeout). Go's
// poll_runtime_pollSetDeadline.
void pd_set_deadline(PollDesc* pd, std::int64_t deadline_ns, int mode);

// ---- the scheduler's side --------------------------------------------------------------------

// True once any fd was registered (before that, the scheduler never polls).
bool netpoll_inited();
// Goroutines parked on the poller by the current run (Go's netpollAnyWaiters): while there
// are any, an idle M blocks in the poller and deadlock detection keeps quiet.
bool netpoll_has_waiters();
// Forgets the waiters of an earlier run (its parked goroutines were abandoned); run() calls it.
void netpoll_new_run();
// A non-blocking poll is worth it now: someone waits and no M is blocked in the poller.
bool netpoll_should_poll();
// The monitor's rule: as netpoll_should_poll, and no poll happened for 10 ms.
bool netpoll_poll_overdue();
// Claims the right to block in the poller; at most one M holds it. False if another does or
// no goroutine waits.
bool netpoll_claim_blocking();
// Polls: delay_ns < 0 blocks (the caller holds the claim, released on return), 0 returns at
// once. Returns the goroutines that became ready, linked by G::sched_next (still waiting:
// the scheduler makes them runnable).
G* netpoll(std::int64_t delay_ns);
// Wakes the M blocked in the poller, if any (shutdown; the last waiter gone).
void netpoll_break();

}  // namespace gocxx::detail

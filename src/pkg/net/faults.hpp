// Fault injection's machinery (the API is Faults in gocxx/net.hpp): where a connection's faults
// come from (FaultSource), the state a faulted connection's reads and writes consult
// (ConnFaults), and the seeded draws that make a run reproducible. Internal to gocxx::net.
//
// The I/O path pays for faults only through NetFD::faults_: null unless the connection was made
// with faults, so a read or write without them costs one well-predicted branch. Everything here
// runs only for faulted connections, accepts and dials.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>

#include "gocxx/detail/sema.hpp"
#include "gocxx/net.hpp"

namespace gocxx::time::detail {
struct TimerState;
}

namespace gocxx::net::detail {

class ConnFaults;

// The faults of a listener, of one dial, or the process-wide default. Hands out the ordinals
// that key each connection's draws, and draws accept and dial failures.
class FaultSource {
 public:
  // Validates f (std::invalid_argument) and resolves a zero seed (GOCXX_FAULTS_SEED, else
  // random). Connection and dial ordinals start at `first`.
  explicit FaultSource(const Faults& f, std::uint64_t first = 0);
  const Faults& faults() const { return f_; }
  bool active() const { return active_; }  // f_.any()

  // Draws the next accept: true if it must fail (accept_fail); *index is the accept's index.
  bool fail_accept(std::uint64_t* index);
  // A new dial's ordinal, and whether its `attempt`-th connect must be refused (dial_fail).
  std::uint64_t next_dial() { return next_dial_.fetch_add(1, std::memory_order_relaxed); }
  bool fail_dial(std::uint64_t dial, std::uint64_t attempt) const;
  // The faults of a new stream connection on socket fd (tcp: a TCP socket, else Unix), or
  // nullptr when these faults have none for connections. Per-connection faults (reset_conn,
  // timeout_conn) happen here.
  std::unique_ptr<ConnFaults> new_conn(int fd, bool tcp);

 private:
  Faults f_;
  bool active_;
  bool conn_faults_;
  std::atomic<std::uint64_t> next_conn_;
  std::atomic<std::uint64_t> next_accept_{0};
  std::atomic<std::uint64_t> next_dial_;
};

// The process-wide default's source (GOCXX_FAULTS on first use), or nullptr if it injects
// nothing.
std::shared_ptr<FaultSource> default_source();
// A source for one dial with explicit faults (Dialer::faults): its ordinal is the count of such
// dials in the process so far, so repeated dials draw different streams.
std::shared_ptr<FaultSource> dial_source(const Faults& f);
// Reports an injected fault to the observer, if one is set.
void observe(const FaultEvent& e);

// A faulted connection's state. Reads and writes come in through read() and write() with the
// direction's lock held (NetFD serializes each direction), so per-direction fields need no
// lock; what crosses directions (reset, silence, close, deadlines) is atomic.
class ConnFaults {
 public:
  using ReadyFn = std::function<error()>;  // waits until the socket is readable
  using ReadFn = std::function<Result<std::size_t>(std::span<char>)>;
  using WriteFn = std::function<Result<std::size_t>(std::span<const char>)>;

  ConnFaults(const Faults& f, std::uint64_t ordinal, int fd, bool tcp);
  ~ConnFaults();
  ConnFaults(const ConnFaults&) = delete;
  ConnFaults& operator=(const ConnFaults&) = delete;

  // A read: reset/timeout draws, then latency (wait for data, hold it back), then `read`.
  Result<std::size_t> read(std::span<char> buf, const ReadyFn& ready, const ReadFn& read);
  // A write: reset/timeout draws, then the data in slices and/or paced by bandwidth.
  Result<std::size_t> write(std::span<const char> data, const WriteFn& write);
  // The poller's deadline changed (deadline_ns as the poller takes it: 0 none, < 0 passed):
  // a faulted wait in those directions re-checks it.
  void set_deadline(std::int64_t deadline_ns, int mode);
  // The connection is closing: every faulted wait ends with err_closed.
  void closing();
  // Before a close: slow_close's delay.
  void slow_close();

 private:
  enum State : int { kNormal, kReset, kSilent };
  struct Direction {
    gocxx::detail::Sema wake;                        // released by timer, deadline, close, reset
    time::detail::TimerState* timer = nullptr;       // releases `wake` at the wait's end
    std::atomic<std::int64_t> deadline_ns{0};        // the poller's deadline, mirrored
    std::atomic<bool> waiting{false};                // a faulted wait is in progress
    std::uint64_t ops = 0;                           // reads (writes) begun
  };
  struct Op {
    std::uint64_t index = 0;
    error err;
  };

  Op begin(int dir, const char* op);
  error check(int dir, const char* op);
  error wait(int dir, std::int64_t until_ns, const char* op);
  error interrupted(int dir, const char* op, std::int64_t now) const;
  void reset_now(const char* op, std::uint64_t index);
  void go_silent(const char* op, std::uint64_t index);
  void wake(int dir);
  error reset_error(const char* op) const;
  error map(const char* op, error err) const;
  double draw(std::uint64_t stream, std::uint64_t index, std::uint64_t what) const;
  time::Duration latency(std::uint64_t index) const;
  std::int64_t bandwidth_wait(std::size_t n, time::Duration* paced);

  const Faults f_;
  const std::uint64_t ordinal_;
  const int fd_;
  const bool tcp_;
  std::atomic<int> state_{kNormal};
  std::atomic<bool> closing_{false};
  Direction dirs_[2];  // [0] reads, [1] writes
  // Bandwidth pacing (the write lock guards them): piece k goes out at origin + bytes/rate.
  std::int64_t pace_origin_ns_ = 0;
  std::uint64_t paced_bytes_ = 0;
};

}  // namespace gocxx::net::detail

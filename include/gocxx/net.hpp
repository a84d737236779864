// gocxx::net — Go's package net: TCP, UDP and Unix domain sockets whose blocking calls park the
// goroutine ("IO wait") on the runtime's network poller instead of blocking its thread.
//
//   auto [ln, err] = gocxx::net::listen("tcp", "127.0.0.1:8080");
//   for (;;) {
//     auto [conn, err] = ln.accept();                  // parks the goroutine
//     if (err) break;                                  // net::err_closed after ln.close()
//     gocxx::go([c = std::move(conn)]() mutable {
//       char buf[4096];
//       for (;;) {
//         auto [n, err] = c.read(buf);                 // io::eof when the peer closes
//         if (err) break;
//         if (c.write({buf, n}).err) break;            // writes all bytes or fails
//       }
//     });
//   }
//
// Errors follow Go: every failure is a net::OpError ("read tcp 127.0.0.1:8080->127.0.0.1:5000:
// i/o timeout") wrapping the cause, which errors::is finds: net::err_closed ("use of closed
// network connection"), os::err_deadline_exceeded ("i/o timeout"), io::eof, or an os::Errno
// ("connection refused", "connection reset by peer"). is_timeout(err) is Go's
// `err.(net.Error).Timeout()`.
//
// Conn, Listener and PacketConn are reference-counted handles (copies share one socket, as
// Go's interface values share one *netFD); the socket is closed by close() or when the last
// handle goes away. Every method may be called from any goroutine or plain thread, at the same
// time as any other: reads are serialized with reads and writes with writes (as Go's fdMutex
// does), and close() wakes every blocked call, which then fails with err_closed. A plain thread
// blocks in the call instead of parking.
//
// Deadlines are absolute times on gocxx::time's clock (time::now() + 5s); TimePoint{} means no
// deadline. A deadline applies to every call until it is changed, a deadline in the past fails
// calls at once, and changing it while a call waits takes effect for that call (Go's rules).
//
// Fault injection for tests and pressure runs (latency, jitter, bandwidth, slicing, resets,
// connections that stop answering, failing accepts and dials): Faults, below, or GOCXX_FAULTS.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gocxx/context.hpp"
#include "gocxx/errors.hpp"
#include "gocxx/io.hpp"
#include "gocxx/os.hpp"
#include "gocxx/time.hpp"

namespace gocxx::net {

// Go's net.ErrClosed.
inline const error err_closed = errors::make("use of closed network connection");

// A network address: an IP address and port (TCP, UDP) or a path (Unix). A default-constructed
// Addr is nil (Go's nil net.Addr).
class Addr {
 public:
  Addr() = default;
  // From a socket address of the given network ("tcp", "udp", "unix", "unixgram").
  Addr(std::string_view network, const sockaddr* sa, socklen_t len);

  explicit operator bool() const { return len_ != 0; }
  std::string network() const { return network_; }  // Go's Addr.Network()
  std::string string() const;                        // "127.0.0.1:80", "[::1]:80", "/tmp/s"
  std::string ip() const;                            // "127.0.0.1", "::1"; "" for Unix
  int port() const;                                  // 0 for Unix
  const sockaddr* sockaddr_ptr() const { return reinterpret_cast<const sockaddr*>(&storage_); }
  socklen_t sockaddr_len() const { return len_; }

  friend bool operator==(const Addr& a, const Addr& b) {
    return a.network_ == b.network_ && a.string() == b.string();
  }
  friend std::ostream& operator<<(std::ostream& out, const Addr& a) {
    return out << (a ? a.string() : std::string("<nil>"));
  }

 private:
  std::string network_;
  sockaddr_storage storage_{};
  socklen_t len_ = 0;
};

// Go's *net.OpError: what failed, where, and why ("dial tcp 127.0.0.1:1: connect: connection
// refused"). unwrap() is the cause.
class OpError final : public WrappingError {
 public:
  OpError(std::string op, std::string net, Addr source, Addr addr, error err)
      : op(std::move(op)), net(std::move(net)), source(std::move(source)),
        addr(std::move(addr)), err(std::move(err)) {}
  std::string message() const override;
  gocxx::error unwrap() const override { return err; }
  bool timeout() const;  // the cause is a deadline (os::err_deadline_exceeded, ETIMEDOUT...)

  std::string op;    // "dial", "listen", "accept", "read", "write", "close", "set", ...
  std::string net;   // "tcp", "udp", "unix", ...
  Addr source;       // the local address, if any
  Addr addr;         // the remote address (dial, read, write) or the listening address
  gocxx::error err;
};

// Go's *net.AddrError: "address <addr>: <message>" (a malformed host:port).
class AddrError final : public ErrorBase {
 public:
  AddrError(std::string err, std::string addr) : err(std::move(err)), addr(std::move(addr)) {}
  std::string message() const override { return "address " + addr + ": " + err; }
  std::string err;
  std::string addr;
};

// Go's *net.DNSError: "lookup <name>: <message>".
class DNSError final : public ErrorBase {
 public:
  DNSError(std::string err, std::string name, bool not_found, bool timeout)
      : err(std::move(err)), name(std::move(name)), not_found(not_found), is_timeout(timeout) {}
  std::string message() const override { return "lookup " + name + ": " + err; }
  bool timeout() const { return is_timeout; }
  std::string err;
  std::string name;
  bool not_found;
  bool is_timeout;
};

// Go's net.UnknownNetworkError: "unknown network <name>".
class UnknownNetworkError final : public ErrorBase {
 public:
  explicit UnknownNetworkError(std::string name) : name(std::move(name)) {}
  std::string message() const override { return "unknown network " + name; }
  std::string name;
};

// Go's `var ne net.Error; errors.As(err, &ne) && ne.Timeout()`: err (or an error it wraps) is
// a timeout.
bool is_timeout(const error& err);

// Go's net.SplitHostPort: "host:port", "[ipv6]:port" -> host, port (without brackets).
struct HostPort {
  std::string host;
  std::string port;
  error err;
};
[[nodiscard]] HostPort split_host_port(std::string_view hostport);
// Go's net.JoinHostPort: brackets a host that contains ':'.
std::string join_host_port(std::string_view host, std::string_view port);

// Go's net.LookupHost: the addresses of host (getaddrinfo, run with gocxx::blocking).
[[nodiscard]] Result<std::vector<std::string>> lookup_host(std::string_view host);

namespace detail {
class NetFD;
}
struct Faults;

// A stream connection (Go's net.Conn): TCP or Unix, or a connected UDP socket.
class Conn {
 public:
  Conn() = default;  // nil
  explicit Conn(std::shared_ptr<detail::NetFD> fd) : fd_(std::move(fd)) {}
  explicit operator bool() const { return fd_ != nullptr; }

  // Reads up to buf.size() bytes; at least one unless err is set. io::eof when the peer has
  // closed (and buf is not empty).
  [[nodiscard]] Result<std::size_t> read(std::span<char> buf);
  [[nodiscard]] Result<std::size_t> read(std::span<std::byte> buf);
  // Writes all of data, or returns the error and how many bytes were written.
  [[nodiscard]] Result<std::size_t> write(std::string_view data);
  [[nodiscard]] Result<std::size_t> write(std::span<const std::byte> data);

  // Closes the connection; blocked reads and writes fail with err_closed. A second close
  // returns an OpError wrapping err_closed.
  error close();
  error close_read();   // shutdown(SHUT_RD): later reads return io::eof
  error close_write();  // shutdown(SHUT_WR): the peer reads io::eof

  error set_deadline(time::TimePoint t);
  error set_read_deadline(time::TimePoint t);
  error set_write_deadline(time::TimePoint t);

  Addr local_addr() const;
  Addr remote_addr() const;

  error set_nodelay(bool on);                  // TCP only (Go sets it on every TCP conn)
  error set_keepalive(bool on);                // TCP only
  error set_keepalive_period(time::Duration d);
  error set_linger(int seconds);               // < 0: the system default (Go's SetLinger)

  // The descriptor, for socket options gocxx does not wrap (Go's SyscallConn). Do not close it.
  int fd() const;

  friend bool operator==(const Conn& a, const Conn& b) { return a.fd_ == b.fd_; }

 private:
  std::shared_ptr<detail::NetFD> fd_;
};

// A stream listener (Go's net.Listener).
class Listener {
 public:
  Listener() = default;  // nil
  explicit Listener(std::shared_ptr<detail::NetFD> fd) : fd_(std::move(fd)) {}
  explicit operator bool() const { return fd_ != nullptr; }

  // Waits for the next connection. After close(), fails with err_closed. Per-connection
  // failures (EMFILE, ECONNABORTED) are returned and the listener stays usable.
  [[nodiscard]] Result<Conn> accept();
  // Stops listening; a blocked accept() fails with err_closed. A Unix listener removes its
  // socket file, as Go's does.
  error close();
  Addr addr() const;
  error set_deadline(time::TimePoint t);  // for accept (Go's TCPListener.SetDeadline)
  int fd() const;
  // Connections accepted from now on get these faults instead of the process-wide default
  // (Faults{} turns faults off for this listener); accept_fail applies to accept() itself.
  // Throws std::invalid_argument as Faults::validate does.
  void set_faults(const Faults& f);

 private:
  std::shared_ptr<detail::NetFD> fd_;
};

// What read_from returns: the datagram's size, its sender, and an error.
struct ReadFromResult {
  std::size_t n = 0;
  Addr addr;
  error err;
};

// A datagram socket (Go's net.PacketConn): UDP or Unix "unixgram".
class PacketConn {
 public:
  PacketConn() = default;
  explicit PacketConn(std::shared_ptr<detail::NetFD> fd) : fd_(std::move(fd)) {}
  explicit operator bool() const { return fd_ != nullptr; }

  // Receives one datagram (truncated to buf.size()).
  [[nodiscard]] ReadFromResult read_from(std::span<char> buf);
  // Sends one datagram to addr.
  [[nodiscard]] Result<std::size_t> write_to(std::string_view data, const Addr& addr);

  error close();
  Addr local_addr() const;
  error set_deadline(time::TimePoint t);
  error set_read_deadline(time::TimePoint t);
  error set_write_deadline(time::TimePoint t);
  int fd() const;

 private:
  std::shared_ptr<detail::NetFD> fd_;
};

// Go's net.Listen. network: "tcp", "tcp4", "tcp6", "unix". An empty host listens on every
// address (dual-stack for "tcp"); port 0 picks a free port (see addr()).
[[nodiscard]] Result<Listener> listen(std::string_view network, std::string_view address);
// Go's net.ListenPacket. network: "udp", "udp4", "udp6", "unixgram".
[[nodiscard]] Result<PacketConn> listen_packet(std::string_view network, std::string_view address);
// Go's net.Dial. network: "tcp", "tcp4", "tcp6", "udp", "udp4", "udp6", "unix", "unixgram".
// The host is resolved with getaddrinfo (inside gocxx::blocking); each address is tried in
// turn until one connects.
[[nodiscard]] Result<Conn> dial(std::string_view network, std::string_view address);
// Dial that gives up after `timeout` (OpError wrapping os::err_deadline_exceeded); zero means
// no timeout, and a negative one fails at once, as Go's Dialer.Timeout.
[[nodiscard]] Result<Conn> dial_timeout(std::string_view network, std::string_view address,
                                        time::Duration timeout);
// Dial that gives up when ctx is done, aborting a connect in progress: the error wraps
// context::canceled ("operation was canceled") or os::err_deadline_exceeded.
[[nodiscard]] Result<Conn> dial_context(const context::Context& ctx, std::string_view network,
                                        std::string_view address);

// ---- fault injection -------------------------------------------------------------------------
// Faults make stream connections (TCP, Unix) misbehave on purpose, in process, to show how a
// program copes with a bad network: Toxiproxy's toxics without a proxy. Each field is one fault,
// off by default; the spec syntax (Faults::parse, GOCXX_FAULTS) uses the field names:
//
//   net::set_faults(net::Faults::parse("latency=20ms,jitter=10%,reset=0.1%"));  // process-wide
//   ln.set_faults(net::Faults{.latency = 5ms, .slice = 16});                     // one listener
//   net::Dialer{.faults = net::Faults{.dial_fail = 0.5}}.dial("tcp", address);   // one dial
//   $ GOCXX_FAULTS='latency=20ms,jitter=10%' GOCXX_FAULTS_SEED=42 ./service      // environment
//
// A connection takes its faults when it is made: from its listener's set_faults, else its
// Dialer's faults, else the process-wide default (set_faults; GOCXX_FAULTS, read on first use
// of the default: an invalid value prints a message and exits with status 2). Delays park the
// goroutine ("IO wait") and end early at close (err_closed) or at the direction's deadline
// (os::err_deadline_exceeded, an OpError that is_timeout), as a real slow network's would.
// Errors are the OpErrors Go returns for the real failure. Without faults, a read or write pays
// one predictable branch.
//
// Reproducible: every random choice is a function of the seed, the connection's ordinal (the
// k-th connection its listener accepted, or made under the default, or dialed with explicit
// faults) and the operation's index on that connection, reads and writes counted apart. The
// same seed and the same order of connections and operations give the same faults.
struct Faults {
  time::Duration latency{};      // latency=20ms: a read returns data that long after it arrived
  double jitter = 0;             // jitter=10%: each delay uniform in latency * (1 +- jitter)
  double latency_prob = 1;       // latency_prob=50%: the fraction of reads that are delayed
  std::uint64_t bandwidth = 0;   // bandwidth=64KiB/s: writes paced to this many bytes/s (0: off)
  std::size_t slice = 0;         // slice=512: a write goes out as writes of at most 512 bytes
  time::Duration slice_delay{};  // slice_delay=1ms: the pause between two slices
  double reset = 0;              // reset=0.1%: a read or write resets the connection (RST)
  double reset_conn = 0;         // reset_conn=5%: a new connection is reset at once
  double timeout = 0;            // timeout=0.1%: a read or write makes it stop answering
  double timeout_conn = 0;       // timeout_conn=5%: a new connection never answers
  time::Duration slow_close{};   // slow_close=1s: close() first waits this long
  double accept_fail = 0;        // accept_fail=1%: accept() fails with EMFILE (conn stays queued)
  double dial_fail = 0;          // dial_fail=1%: a connect attempt is refused (ECONNREFUSED)
  std::uint64_t seed = 0;        // seed=42; 0: from GOCXX_FAULTS_SEED, else random

  // "latency=20ms,jitter=10%,reset=0.1%": name=value items, comma-separated, each name at most
  // once. Durations as Go writes them (20ms, 1.5s, 100us); probabilities as 0.1% or 0.001;
  // sizes as 512, 4KiB, 1MB (bandwidth with an optional /s). Throws std::invalid_argument
  // naming the bad item.
  static Faults parse(std::string_view spec);
  std::string string() const;  // the spec: canonical order, no defaults; parse() reads it back
  bool any() const;            // some fault is on (the seed alone is not a fault)
  // Throws std::invalid_argument if a field is out of range (probabilities in [0, 1], no
  // negative duration) or depends on one left off (jitter, latency_prob need latency;
  // slice_delay needs slice).
  void validate() const;
  friend bool operator==(const Faults&, const Faults&) = default;
};

// Replaces the process-wide default for connections, accepts and dials from now on (throws as
// Faults::validate). A zero seed is resolved here, so faults().seed tells the one in use.
void set_faults(const Faults& f);
// The process-wide default (GOCXX_FAULTS until set_faults).
Faults faults();

// One injected fault, as the observer sees it.
enum class FaultKind {
  latency, bandwidth, slice, reset, timeout, slow_close, accept_fail, dial_fail
};
const char* fault_name(FaultKind k);  // the spec name: "latency", "reset", ...
struct FaultEvent {
  FaultKind kind{};
  const char* op = "";       // "read", "write", "close", "accept", "dial"; "conn": at creation
  std::uint64_t conn = 0;    // the connection's ordinal; dial: the dial's; accept: 0
  std::uint64_t index = 0;   // the read's (write's) index on the connection; accept: the
                             // listener's accept count; dial: the address tried (0, 1, ...)
  time::Duration delay{};    // latency, bandwidth, slice, slow_close: the injected delay
  std::size_t bytes = 0;     // bandwidth, slice: the bytes written after the delay
};
// Calls f for every fault injected from now on (nullptr: stop), on the goroutine that ran into
// it, after it took effect (a delay has passed, a slice is written), with that direction of the
// connection locked: f may block it, so keep it short. For tests and tracing.
void set_fault_observer(std::function<void(const FaultEvent&)> f);

// Go's net.Dialer, with the options gocxx has. A Dialer is a value: copies dial alike.
struct Dialer {
  time::Duration timeout{};                     // Go's Dialer.Timeout: zero means none
  std::optional<Faults> faults = std::nullopt;  // this dial's; nullopt: the process-wide default
  // As net::dial and net::dial_context, with the timeout and faults above (invalid faults
  // throw std::invalid_argument).
  [[nodiscard]] Result<Conn> dial(std::string_view network, std::string_view address) const;
  [[nodiscard]] Result<Conn> dial_context(const context::Context& ctx, std::string_view network,
                                          std::string_view address) const;
};

// File-descriptor accounting (for metrics and leak alerts): sockets opened and closed through
// gocxx::net since the process started, and the process's open descriptors (/proc/self/fd).
struct Stats {
  std::uint64_t sockets_opened = 0;
  std::uint64_t sockets_closed = 0;
  std::int64_t open_fds = 0;
};
Stats stats();

}  // namespace gocxx::net

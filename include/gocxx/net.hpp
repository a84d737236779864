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
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <memory>
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

// File-descriptor accounting (for metrics and leak alerts): sockets opened and closed through
// gocxx::net since the process started, and the process's open descriptors (/proc/self/fd).
struct Stats {
  std::uint64_t sockets_opened = 0;
  std::uint64_t sockets_closed = 0;
  std::int64_t open_fds = 0;
};
Stats stats();

}  // namespace gocxx::net

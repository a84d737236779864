// NetFD: one socket with its poll descriptor (Go's net.netFD over internal/poll.FD). Every
// blocking call tries the system call first and waits on the poller only after EAGAIN.
//
// Lifetime (Go's fdMutex, simplified): `refs_` counts the calls in progress plus one for the
// open descriptor; close() sets the closed bit, wakes every waiter (pd_evict) and drops the
// open reference. The last call to finish, or close() itself, unregisters the fd and closes
// it, so a descriptor number is never closed (and perhaps reused by another socket) while a
// call still uses it. close() returns only once that happened, as Go's does. Reads are
// serialized with reads and writes with writes (the poller has one waiter slot per
// direction); the two directions, and close, run concurrently.
//
// Fault injection (faults.hpp) hooks in here: a connection made with faults carries a
// ConnFaults that its reads and writes go through; without faults that costs one branch.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "gocxx/detail/sema.hpp"
#include "gocxx/net.hpp"
#include "gocxx/sync.hpp"

#include "pkg/net/faults.hpp"
#include "runtime/netpoll.hpp"

namespace gocxx::net::detail {

struct Network;

class NetFD {
 public:
  // Takes ownership of a non-blocking, close-on-exec socket and registers it with the poller.
  // `net` is the network name errors show ("tcp", "udp", "unix", ...).
  static Result<std::shared_ptr<NetFD>> adopt(int fd, std::string net, int socktype);
  ~NetFD();
  NetFD(const NetFD&) = delete;
  NetFD& operator=(const NetFD&) = delete;

  int sysfd() const { return fd_; }
  const std::string& net() const { return net_; }
  const Addr& laddr() const { return laddr_; }
  const Addr& raddr() const { return raddr_; }
  // The local address from getsockname; the remote one is what accept or connect used (one
  // system call fewer than asking getpeername, as Go does for accepted sockets).
  void set_addrs(std::string_view network, Addr remote);

  // The raw operations return the cause only (nil, err_closed, os::err_deadline_exceeded,
  // io::eof, a SyscallError); the net layer wraps them in an OpError with the addresses.
  Result<std::size_t> read(std::span<char> buf);
  Result<std::size_t> write(std::span<const char> data);
  Result<std::size_t> read_from(std::span<char> buf, sockaddr_storage* from, socklen_t* fromlen);
  Result<std::size_t> write_to(std::span<const char> data, const sockaddr* to, socklen_t tolen);
  // accept4: the new socket's fd, non-blocking and close-on-exec. With faults, an accept may
  // fail with EMFILE once a connection is pending, leaving it queued (accept_fail).
  Result<int> accept(sockaddr_storage* from, socklen_t* fromlen, FaultSource* faults);
  // Non-blocking connect, waiting for completion on the poller (write deadline applies).
  error connect(const sockaddr* to, socklen_t len);
  error shutdown(int how);
  error set_deadline(time::TimePoint t, int mode);
  // setsockopt, with the fd kept open during the call.
  error setsockopt(int level, int name, const void* value, socklen_t len);
  // A Unix listener's socket file, removed when the fd is closed (Go's UnixListener.unlink).
  void unlink_on_close(std::string path) { unlink_path_ = std::move(path); }
  error close();

  // A connection's faults, attached before the connection is handed out and never changed,
  // so the I/O path reads faults_ without synchronization.
  void attach_faults(std::unique_ptr<ConnFaults> f) { faults_ = std::move(f); }
  // A listener's own faults (Listener::set_faults), which replace the process-wide default.
  void set_listener_faults(std::shared_ptr<FaultSource> s) { listener_faults_.store(std::move(s)); }
  // The faults for this listener's next accept: its own, else the default; null if none.
  std::shared_ptr<FaultSource> accept_faults() const;

 private:
  class Call;
  NetFD(int fd, std::string net, int socktype, gocxx::detail::PollDesc* pd);
  bool incref();
  void decref();
  void destroy();
  template <class Syscall>
  Result<ssize_t> io(int mode, const char* name, Syscall syscall, bool wait_first = false);
  static error poll_error(gocxx::detail::PollError e);
  // read and write once the Call is held, without faults and through them.
  Result<std::size_t> read_now(std::span<char> buf);
  Result<std::size_t> write_now(std::span<const char> data);
  Result<std::size_t> read_faulted(std::span<char> buf);
  Result<std::size_t> write_faulted(std::span<const char> data);
  // Waits until the socket is ready for mode without transferring anything (faults).
  error wait_ready(int mode);

  int fd_;
  std::string net_;
  int socktype_;
  gocxx::detail::PollDesc* pd_;
  // Null: no faults (the I/O path's one branch). Next to fd_ and pd_, on the cache line every
  // call reads anyway.
  std::unique_ptr<ConnFaults> faults_;
  Addr laddr_;
  Addr raddr_;
  std::string unlink_path_;
  static constexpr std::uint64_t kClosedBit = std::uint64_t(1) << 63;
  std::atomic<std::uint64_t> refs_{1};  // calls in progress + 1 while open; kClosedBit
  gocxx::sync::Mutex read_mu_;
  // The last stream read returned less than asked: see NetFD::read. Written under read_mu_;
  // cleared by close_read from any goroutine.
  std::atomic<bool> drained_{false};
  gocxx::sync::Mutex write_mu_;
  gocxx::detail::Sema closed_;          // released when the fd is closed
  std::atomic<std::shared_ptr<FaultSource>> listener_faults_;
};

error set_int_option(NetFD& fd, int level, int name, int value);
// What Go does to every TCP connection it makes or accepts: no Nagle delay, and keep-alive
// probes every 15 s.
void apply_tcp_defaults(NetFD& fd);

// A new socket (non-blocking, close-on-exec), or the socket(2) error.
Result<int> new_socket(int family, int socktype);

// The counts behind net::stats() (open_fds left 0).
void count_socket_opened();
void count_socket_closed();
Stats socket_counts();

}  // namespace gocxx::net::detail

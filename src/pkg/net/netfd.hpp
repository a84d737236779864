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
  // accept4: the new socket's fd, non-blocking and close-on-exec.
  Result<int> accept(sockaddr_storage* from, socklen_t* fromlen);
  // Non-blocking connect, waiting for completion on the poller (write deadline applies).
  error connect(const sockaddr* to, socklen_t len);
  error shutdown(int how);
  error set_deadline(time::TimePoint t, int mode);
  // setsockopt, with the fd kept open during the call.
  error setsockopt(int level, int name, const void* value, socklen_t len);
  // A Unix listener's socket file, removed when the fd is closed (Go's UnixListener.unlink).
  void unlink_on_close(std::string path) { unlink_path_ = std::move(path); }
  error close();

 private:
  class Call;
  NetFD(int fd, std::string net, int socktype, gocxx::detail::PollDesc* pd);
  bool incref();
  void decref();
  void destroy();
  template <class Syscall>
  Result<ssize_t> io(int mode, const char* name, Syscall syscall, bool wait_first = false);
  static error poll_error(gocxx::detail::PollError e);

  int fd_;
  std::string net_;
  int socktype_;
  gocxx::detail::PollDesc* pd_;
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

// NetFD: a socket's system calls on top of the poller (see netfd.hpp for the lifetime rules).
#include "pkg/net/netfd.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <poll.h>

#include <cerrno>
#include <mutex>

#include "runtime/netpoll.hpp"

namespace gocxx::net::detail {

namespace rt = gocxx::detail;

namespace {

std::atomic<std::uint64_t> g_sockets_opened{0};
std::atomic<std::uint64_t> g_sockets_closed{0};

std::int64_t to_deadline_ns(time::TimePoint t) {
  if (t == time::TimePoint{}) return 0;  // Go's zero Time: no deadline
  std::int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  return ns > 0 ? ns : -1;  // at or before the clock's origin: long past
}

}  // namespace

// A call's reference to the descriptor, and for reads and writes the direction's lock, held
// for the call's duration.
class NetFD::Call {
 public:
  Call(NetFD* fd, gocxx::sync::Mutex* direction) : fd_(fd->incref() ? fd : nullptr) {
    if (fd_ && direction) {
      direction_ = direction;
      direction_->lock();
    }
  }
  ~Call() {
    if (direction_) direction_->unlock();
    if (fd_) fd_->decref();
  }
  Call(const Call&) = delete;
  Call& operator=(const Call&) = delete;
  explicit operator bool() const { return fd_ != nullptr; }

 private:
  NetFD* fd_;
  gocxx::sync::Mutex* direction_ = nullptr;
};

error set_int_option(NetFD& fd, int level, int name, int value) {
  return fd.setsockopt(level, name, &value, sizeof value);
}

void apply_tcp_defaults(NetFD& fd) {
  (void)set_int_option(fd, IPPROTO_TCP, TCP_NODELAY, 1);
  (void)set_int_option(fd, SOL_SOCKET, SO_KEEPALIVE, 1);
  (void)set_int_option(fd, IPPROTO_TCP, TCP_KEEPINTVL, 15);
  (void)set_int_option(fd, IPPROTO_TCP, TCP_KEEPIDLE, 15);
}

void count_socket_opened() { g_sockets_opened.fetch_add(1, std::memory_order_relaxed); }
void count_socket_closed() { g_sockets_closed.fetch_add(1, std::memory_order_relaxed); }

Stats socket_counts() {
  Stats s;
  s.sockets_opened = g_sockets_opened.load(std::memory_order_relaxed);
  s.sockets_closed = g_sockets_closed.load(std::memory_order_relaxed);
  return s;
}

Result<int> new_socket(int family, int socktype) {
  int fd = ::socket(family, socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return {-1, os::syscall_error("socket", errno)};
  count_socket_opened();
  return {fd, nullptr};
}

NetFD::NetFD(int fd, std::string net, int socktype, rt::PollDesc* pd)
    : fd_(fd), net_(std::move(net)), socktype_(socktype), pd_(pd) {}

Result<std::shared_ptr<NetFD>> NetFD::adopt(int fd, std::string net, int socktype) {
  int code = 0;
  rt::PollDesc* pd = rt::pd_open(fd, &code);
  if (!pd) {
    ::close(fd);
    count_socket_closed();
    return {nullptr, os::syscall_error("epoll_ctl", code)};
  }
  return {std::shared_ptr<NetFD>(new NetFD(fd, std::move(net), socktype, pd)), nullptr};
}

NetFD::~NetFD() {
  // The last handle is gone, so no call is in progress: close now unless close() did.
  if (!(refs_.load(std::memory_order_acquire) & kClosedBit)) {
    refs_.store(kClosedBit, std::memory_order_release);
    rt::pd_evict(pd_);
    destroy();
  }
}

void NetFD::set_addrs(std::string_view network, Addr remote) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len) == 0) {
    laddr_ = Addr(network, reinterpret_cast<sockaddr*>(&ss), len);
  }
  raddr_ = std::move(remote);
}

bool NetFD::incref() {
  std::uint64_t s = refs_.load(std::memory_order_relaxed);
  do {
    if (s & kClosedBit) return false;
  } while (!refs_.compare_exchange_weak(s, s + 1, std::memory_order_acquire));
  return true;
}

void NetFD::decref() {
  if (refs_.fetch_sub(1, std::memory_order_acq_rel) - 1 == kClosedBit) destroy();
}

void NetFD::destroy() {
  rt::pd_close(pd_);
  ::close(fd_);  // Linux closes the fd even when close reports EINTR: never retry
  count_socket_closed();
  if (!unlink_path_.empty() && unlink_path_[0] != '@') ::unlink(unlink_path_.c_str());
  closed_.release(false);
}

error NetFD::close() {
  if (faults_ && !(refs_.load(std::memory_order_relaxed) & kClosedBit)) faults_->slow_close();
  std::uint64_t s = refs_.load(std::memory_order_relaxed);
  do {
    if (s & kClosedBit) return err_closed;
  } while (!refs_.compare_exchange_weak(s, s | kClosedBit, std::memory_order_acq_rel));
  if (faults_) faults_->closing();  // waits inside faults end as the poller's do
  rt::pd_evict(pd_);  // blocked calls wake and fail with err_closed
  decref();           // the open reference
  closed_.acquire(false, gocxx::detail::WaitReason::kSemacquire);
  return nullptr;
}

error NetFD::poll_error(gocxx::detail::PollError e) {
  switch (e) {
    case rt::PollError::kClosing: return err_closed;
    case rt::PollError::kTimeout: return os::err_deadline_exceeded;
    case rt::PollError::kNone: break;
  }
  return nullptr;
}

// Runs `syscall` (a call returning >= 0, or -1 with errno) until it succeeds or fails with
// something other than EINTR or EAGAIN; after EAGAIN it waits on the poller, which may report
// close or a deadline instead. Always inlined: the fault paths call the read and write bodies
// too, and a second caller must not move this loop out of line on the path without faults.
template <class Syscall>
[[gnu::always_inline]] inline Result<ssize_t> NetFD::io(int mode, const char* name,
                                                        Syscall syscall, bool wait_first) {
  auto e = wait_first ? rt::pd_wait(pd_, mode) : rt::pd_prepare(pd_, mode);
  if (e != rt::PollError::kNone) return {-1, poll_error(e)};
  for (;;) {
    ssize_t r = syscall();
    if (r >= 0) return {r, nullptr};
    if (errno == EINTR) continue;
    if (errno != EAGAIN) return {-1, os::syscall_error(name, errno)};
    if (auto e = rt::pd_wait(pd_, mode); e != rt::PollError::kNone) return {-1, poll_error(e)};
  }
}

Result<std::size_t> NetFD::read(std::span<char> buf) {
  Call call(this, &read_mu_);
  if (!call) return {0, err_closed};
  if (buf.empty()) return {0, nullptr};
  if (faults_) [[unlikely]] return read_faulted(buf);
  return read_now(buf);
}

// Out of line, so that setting up the fault path's callbacks costs read() nothing.
[[gnu::noinline, gnu::cold]] Result<std::size_t> NetFD::read_faulted(std::span<char> buf) {
  return faults_->read(
      buf, [this] { return wait_ready(rt::kPollRead); },
      [this](std::span<char> b) { return read_now(b); });
}

// Inlined into read() (and write_now into write()), so that without faults the I/O path is
// what it was before faults existed, plus the one branch.
[[gnu::always_inline]] inline Result<std::size_t> NetFD::read_now(std::span<char> buf) {
  // A stream read that returned less than it asked for emptied the socket (TCP and Unix stream
  // sockets copy all that is queued), so this one would fail with EAGAIN: it waits for the
  // next edge first and saves a system call per request/response exchange (Go makes the
  // call). Not once the peer hung up: its FIN may have gone with the last bytes, and no edge
  // follows it.
  bool wait_first = drained_.load(std::memory_order_relaxed) && !rt::pd_hung_up(pd_);
  auto [r, err] = io(rt::kPollRead, "read", [&] { return ::read(fd_, buf.data(), buf.size()); },
                     wait_first);
  drained_.store(socktype_ == SOCK_STREAM && r > 0 && static_cast<std::size_t>(r) < buf.size(),
                 std::memory_order_relaxed);
  if (err) return {0, err};
  // A stream's zero-byte read is the peer's EOF; a datagram may be empty.
  if (r == 0 && socktype_ == SOCK_STREAM) return {0, io::eof};
  return {static_cast<std::size_t>(r), nullptr};
}

Result<std::size_t> NetFD::write(std::span<const char> data) {
  Call call(this, &write_mu_);
  if (!call) return {0, err_closed};
  if (faults_) [[unlikely]] return write_faulted(data);
  return write_now(data);
}

[[gnu::noinline, gnu::cold]] Result<std::size_t> NetFD::write_faulted(std::span<const char> data) {
  return faults_->write(data, [this](std::span<const char> d) { return write_now(d); });
}

[[gnu::always_inline]] inline Result<std::size_t> NetFD::write_now(
    std::span<const char> data) {
  // A stream write goes on after a partial write or EAGAIN until every byte is out; a datagram
  // goes out whole or not at all. MSG_NOSIGNAL: a closed peer gives EPIPE, never SIGPIPE (Go
  // never dies of SIGPIPE on a socket either).
  std::size_t done = 0;
  for (;;) {
    auto [r, err] = io(rt::kPollWrite, "write", [&] {
      return ::send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    });
    if (err) return {done, err};
    done += static_cast<std::size_t>(r);
    if (done == data.size() || socktype_ != SOCK_STREAM) return {done, nullptr};
  }
}

Result<std::size_t> NetFD::read_from(std::span<char> buf, sockaddr_storage* from,
                                     socklen_t* fromlen) {
  Call call(this, &read_mu_);
  if (!call) return {0, err_closed};
  socklen_t cap = *fromlen;
  auto [r, err] = io(rt::kPollRead, "recvfrom", [&] {
    *fromlen = cap;
    return ::recvfrom(fd_, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(from), fromlen);
  });
  return {err ? 0 : static_cast<std::size_t>(r), err};
}

Result<std::size_t> NetFD::write_to(std::span<const char> data, const sockaddr* to,
                                    socklen_t tolen) {
  Call call(this, &write_mu_);
  if (!call) return {0, err_closed};
  auto [r, err] = io(rt::kPollWrite, "sendto", [&] {
    return ::sendto(fd_, data.data(), data.size(), MSG_NOSIGNAL, to, tolen);
  });
  return {err ? 0 : static_cast<std::size_t>(r), err};
}

Result<int> NetFD::accept(sockaddr_storage* from, socklen_t* fromlen, FaultSource* faults) {
  Call call(this, &read_mu_);
  if (!call) return {-1, err_closed};
  if (std::uint64_t index; faults && faults->fail_accept(&index)) {
    // Out of descriptors, accept4 fails only once a connection is pending, and leaves it
    // queued for a later accept: wait for one, take none.
    if (error err = wait_ready(rt::kPollRead)) return {-1, err};
    observe({.kind = FaultKind::accept_fail, .op = "accept", .index = index});
    return {-1, os::syscall_error("accept4", EMFILE)};
  }
  socklen_t cap = *fromlen;
  auto [fd, err] = io(rt::kPollRead, "accept4", [&] {
    // A connection reset before we took it is not the listener's failure (Go retries
    // ECONNABORTED too). EMFILE and the like are returned: the caller may back off and retry.
    ssize_t r;
    do {
      *fromlen = cap;
      r = ::accept4(fd_, reinterpret_cast<sockaddr*>(from), fromlen, SOCK_NONBLOCK | SOCK_CLOEXEC);
    } while (r < 0 && errno == ECONNABORTED);
    return r;
  });
  if (err) return {-1, err};
  count_socket_opened();
  return {static_cast<int>(fd), nullptr};
}

error NetFD::connect(const sockaddr* to, socklen_t len) {
  Call call(this, &write_mu_);
  if (!call) return err_closed;
  int r;
  do {
    r = ::connect(fd_, to, len);
  } while (r != 0 && errno == EINTR);
  if (r == 0) return nullptr;
  if (errno != EINPROGRESS && errno != EALREADY) return os::syscall_error("connect", errno);
  // Wait until the socket is writable, then ask how the connect ended (Go's netFD.connect).
  for (;;) {
    if (auto e = rt::pd_wait(pd_, rt::kPollWrite); e != rt::PollError::kNone) {
      return poll_error(e);
    }
    int so_error = 0;
    socklen_t optlen = sizeof so_error;
    if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &so_error, &optlen) != 0) {
      return os::syscall_error("getsockopt", errno);
    }
    if (so_error == 0) return nullptr;
    if (so_error != EINPROGRESS && so_error != EALREADY && so_error != EINTR) {
      return os::syscall_error("connect", so_error);
    }
  }
}

error NetFD::shutdown(int how) {
  Call call(this, nullptr);
  if (!call) return err_closed;
  if (how != SHUT_WR) drained_.store(false, std::memory_order_relaxed);  // reads end at once now
  return ::shutdown(fd_, how) == 0 ? nullptr : os::syscall_error("shutdown", errno);
}

error NetFD::set_deadline(time::TimePoint t, int mode) {
  Call call(this, nullptr);
  if (!call) return err_closed;
  rt::pd_set_deadline(pd_, to_deadline_ns(t), mode);
  if (faults_) faults_->set_deadline(to_deadline_ns(t), mode);
  return nullptr;
}

error NetFD::setsockopt(int level, int name, const void* value, socklen_t len) {
  Call call(this, nullptr);
  if (!call) return err_closed;
  int r = ::setsockopt(fd_, level, name, value, len);
  return r == 0 ? nullptr : os::syscall_error("setsockopt", errno);
}

error NetFD::wait_ready(int mode) {
  short events = mode == rt::kPollRead ? POLLIN : POLLOUT;
  auto [r, err] = io(mode, "poll", [&]() -> ssize_t {
    pollfd p{fd_, events, 0};
    int n = ::poll(&p, 1, 0);
    if (n == 0) errno = EAGAIN;
    return n == 0 ? -1 : n;
  });
  // Data is queued now, and the edge that announced it may be spent: the next read must try
  // the call before waiting for another edge.
  if (mode == rt::kPollRead) drained_.store(false, std::memory_order_relaxed);
  return err;
}

std::shared_ptr<FaultSource> NetFD::accept_faults() const {
  if (auto own = listener_faults_.load()) return own->active() ? own : nullptr;
  return default_source();
}

}  // namespace gocxx::net::detail

// Conn, Listener and PacketConn (Go's net.conn, TCPListener, UDPConn): the NetFD calls, with
// every error wrapped in the OpError Go would return.
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>

#include "gocxx/net.hpp"
#include "pkg/net/netfd.hpp"

namespace gocxx::net {

namespace {

using detail::NetFD;
namespace rt = gocxx::detail;

// Go's (*conn).ok() failure: a method called on a nil Conn returns EINVAL.
error invalid() { return os::errno_error(EINVAL); }

error wrap(const char* op, const NetFD& fd, error cause) {
  if (!cause || cause == io::eof) return cause;  // Go returns io.EOF unwrapped
  return errors::make_as<OpError>(op, fd.net(), fd.laddr(), fd.raddr(), std::move(cause));
}

// Deadline and option errors name only the local address (Go: Source nil, Addr laddr).
error wrap_set(const NetFD& fd, error cause) {
  if (!cause) return nullptr;
  return errors::make_as<OpError>("set", fd.net(), Addr{}, fd.laddr(), std::move(cause));
}

error set_deadline_of(const std::shared_ptr<NetFD>& fd, time::TimePoint t, int mode) {
  if (!fd) return invalid();
  return wrap_set(*fd, fd->set_deadline(t, mode));
}

std::span<char> as_chars(std::span<std::byte> b) {
  return {reinterpret_cast<char*>(b.data()), b.size()};
}

std::span<const char> as_chars(std::span<const std::byte> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

template <class R>
R with_error(R result, error err) {
  result.err = std::move(err);
  return result;
}

}  // namespace

// ---- Conn -----------------------------------------------------------------------------------

Result<std::size_t> Conn::read(std::span<char> buf) {
  if (!fd_) return {0, invalid()};
  auto r = fd_->read(buf);
  return with_error(r, wrap("read", *fd_, r.err));
}

Result<std::size_t> Conn::read(std::span<std::byte> buf) { return read(as_chars(buf)); }

Result<std::size_t> Conn::write(std::string_view data) {
  if (!fd_) return {0, invalid()};
  auto r = fd_->write({data.data(), data.size()});
  return with_error(r, wrap("write", *fd_, r.err));
}

Result<std::size_t> Conn::write(std::span<const std::byte> data) {
  auto chars = as_chars(data);
  return write(std::string_view(chars.data(), chars.size()));
}

error Conn::close() {
  if (!fd_) return invalid();
  return wrap("close", *fd_, fd_->close());
}

error Conn::close_read() {
  if (!fd_) return invalid();
  return wrap("close", *fd_, fd_->shutdown(SHUT_RD));
}

error Conn::close_write() {
  if (!fd_) return invalid();
  return wrap("close", *fd_, fd_->shutdown(SHUT_WR));
}

error Conn::set_deadline(time::TimePoint t) { return set_deadline_of(fd_, t, rt::kPollReadWrite); }

error Conn::set_read_deadline(time::TimePoint t) { return set_deadline_of(fd_, t, rt::kPollRead); }

error Conn::set_write_deadline(time::TimePoint t) { return set_deadline_of(fd_, t, rt::kPollWrite); }

Addr Conn::local_addr() const { return fd_ ? fd_->laddr() : Addr{}; }
Addr Conn::remote_addr() const { return fd_ ? fd_->raddr() : Addr{}; }
int Conn::fd() const { return fd_ ? fd_->sysfd() : -1; }

error Conn::set_nodelay(bool on) {
  if (!fd_) return invalid();
  return wrap("set", *fd_, detail::set_int_option(*fd_, IPPROTO_TCP, TCP_NODELAY, on ? 1 : 0));
}

error Conn::set_keepalive(bool on) {
  if (!fd_) return invalid();
  return wrap("set", *fd_, detail::set_int_option(*fd_, SOL_SOCKET, SO_KEEPALIVE, on ? 1 : 0));
}

error Conn::set_keepalive_period(time::Duration d) {
  if (!fd_) return invalid();
  // Whole seconds, rounded up, as Go does (the kernel counts in seconds).
  auto secs = std::chrono::ceil<std::chrono::seconds>(d).count();
  int value = static_cast<int>(std::clamp<long long>(secs, 1, 32767));
  error err = detail::set_int_option(*fd_, IPPROTO_TCP, TCP_KEEPINTVL, value);
  if (!err) err = detail::set_int_option(*fd_, IPPROTO_TCP, TCP_KEEPIDLE, value);
  return wrap("set", *fd_, err);
}

error Conn::set_linger(int seconds) {
  if (!fd_) return invalid();
  linger l{seconds >= 0 ? 1 : 0, seconds >= 0 ? seconds : 0};
  return wrap("set", *fd_, fd_->setsockopt(SOL_SOCKET, SO_LINGER, &l, sizeof l));
}

// ---- Listener -------------------------------------------------------------------------------

Result<Conn> Listener::accept() {
  if (!fd_) return {Conn{}, invalid()};
  sockaddr_storage from{};
  socklen_t fromlen = sizeof from;
  std::shared_ptr<detail::FaultSource> faults = fd_->accept_faults();
  auto [sock, err] = fd_->accept(&from, &fromlen, faults.get());
  if (err) return {Conn{}, errors::make_as<OpError>("accept", fd_->net(), Addr{}, fd_->laddr(), err)};
  auto [conn, adopt_err] = NetFD::adopt(sock, fd_->net(), SOCK_STREAM);
  if (adopt_err) {
    return {Conn{}, errors::make_as<OpError>("accept", fd_->net(), Addr{}, fd_->laddr(), adopt_err)};
  }
  std::string network = fd_->laddr().network();
  conn->set_addrs(network, Addr(network, reinterpret_cast<sockaddr*>(&from), fromlen));
  if (network == "tcp") detail::apply_tcp_defaults(*conn);
  if (faults) conn->attach_faults(faults->new_conn(conn->sysfd(), network == "tcp"));
  return {Conn(std::move(conn)), nullptr};
}

void Listener::set_faults(const Faults& f) {
  auto source = std::make_shared<detail::FaultSource>(f);  // validates, even for a nil Listener
  if (fd_) fd_->set_listener_faults(std::move(source));
}

error Listener::close() {
  if (!fd_) return invalid();
  error err = fd_->close();
  if (!err) return nullptr;
  return errors::make_as<OpError>("close", fd_->net(), Addr{}, fd_->laddr(), err);
}

Addr Listener::addr() const { return fd_ ? fd_->laddr() : Addr{}; }
int Listener::fd() const { return fd_ ? fd_->sysfd() : -1; }

error Listener::set_deadline(time::TimePoint t) { return set_deadline_of(fd_, t, rt::kPollRead); }

// ---- PacketConn -----------------------------------------------------------------------------

ReadFromResult PacketConn::read_from(std::span<char> buf) {
  if (!fd_) return {0, Addr{}, invalid()};
  sockaddr_storage from{};
  socklen_t fromlen = sizeof from;
  auto [n, err] = fd_->read_from(buf, &from, &fromlen);
  if (err) return {0, Addr{}, wrap("read", *fd_, err)};
  // An unnamed Unix sender has only a family: Go reports a nil address.
  Addr sender;
  if (fromlen > sizeof(sa_family_t)) {
    sender = Addr(fd_->laddr().network(), reinterpret_cast<sockaddr*>(&from), fromlen);
  }
  return {n, std::move(sender), nullptr};
}

Result<std::size_t> PacketConn::write_to(std::string_view data, const Addr& addr) {
  if (!fd_) return {0, invalid()};
  if (!addr) {
    return {0, errors::make_as<OpError>("write", fd_->net(), fd_->laddr(), Addr{},
                                        errors::make("missing address"))};
  }
  auto [n, err] = fd_->write_to({data.data(), data.size()}, addr.sockaddr_ptr(), addr.sockaddr_len());
  if (err) return {0, errors::make_as<OpError>("write", fd_->net(), fd_->laddr(), addr, err)};
  return {n, nullptr};
}

error PacketConn::close() {
  if (!fd_) return invalid();
  return wrap("close", *fd_, fd_->close());
}

Addr PacketConn::local_addr() const { return fd_ ? fd_->laddr() : Addr{}; }
int PacketConn::fd() const { return fd_ ? fd_->sysfd() : -1; }

error PacketConn::set_deadline(time::TimePoint t) { return set_deadline_of(fd_, t, rt::kPollReadWrite); }

error PacketConn::set_read_deadline(time::TimePoint t) { return set_deadline_of(fd_, t, rt::kPollRead); }

error PacketConn::set_write_deadline(time::TimePoint t) { return set_deadline_of(fd_, t, rt::kPollWrite); }

// ---- accounting -----------------------------------------------------------------------------

Stats stats() {
  Stats s = detail::socket_counts();
  std::int64_t open = -1;  // the directory's own descriptor
  if (DIR* dir = ::opendir("/proc/self/fd")) {
    while (dirent* e = ::readdir(dir)) {
      if (e->d_name[0] != '.') ++open;
    }
    ::closedir(dir);
  } else {
    open = 0;
  }
  s.open_fds = open;
  return s;
}

}  // namespace gocxx::net

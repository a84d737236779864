// listen, listen_packet, dial, dial_timeout, dial_context (Go's net/dial.go, sock_posix.go,
// tcpsock_posix.go): making sockets, binding, connecting, and the errors Go reports for each.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <optional>

#include "gocxx/defer.hpp"
#include "gocxx/net.hpp"
#include "gocxx/sync.hpp"
#include "pkg/net/netfd.hpp"
#include "pkg/net/resolve.hpp"

namespace gocxx::net {

namespace {

using detail::NetFD;
using detail::Network;

// Go's errCanceled: what a dial cancelled through its context reports. errors::is finds
// context::canceled inside it.
class CanceledError final : public WrappingError {
 public:
  std::string message() const override { return "operation was canceled"; }
  gocxx::error unwrap() const override { return context::canceled; }
};
const error err_canceled = errors::make_as<CanceledError>();

// Go's mapErr: a context's error as a dial reports it.
error map_context_error(const error& err) {
  if (err == context::canceled) return err_canceled;
  if (err == context::deadline_exceeded) return os::err_deadline_exceeded;
  return err;
}

error op_error(const char* op, const std::string& net, Addr source, Addr addr, error cause) {
  return errors::make_as<OpError>(op, net, std::move(source), std::move(addr), std::move(cause));
}

int listen_backlog() {
  // Go's maxListenerBacklog: the kernel's limit, which it clamps larger requests to anyway.
  static const int backlog = [] {
    int n = 0;
    if (FILE* f = std::fopen("/proc/sys/net/core/somaxconn", "re")) {
      if (std::fscanf(f, "%d", &n) != 1) n = 0;
      std::fclose(f);
    }
    return n > 0 ? std::min(n, 65535) : SOMAXCONN;
  }();
  return backlog;
}

using detail::set_int_option;

bool is_tcp(const Network& nw) { return nw.base == "tcp"; }

// A socket for `addr`, with the options Go sets before bind: SO_REUSEADDR for stream
// listeners, SO_BROADCAST for UDP, and IPV6_V6ONLY off for "tcp"/"udp" (dual-stack) but on
// for "tcp6"/"udp6".
Result<std::shared_ptr<NetFD>> open_socket(const Network& nw, const Addr& addr, bool listener) {
  int family = addr.sockaddr_ptr()->sa_family;
  auto [sock, err] = detail::new_socket(family, nw.socktype);
  if (err) return {nullptr, err};
  auto [fd, adopt_err] = NetFD::adopt(sock, nw.name, nw.socktype);
  if (adopt_err) return {nullptr, adopt_err};
  if (family == AF_INET6) {
    (void)set_int_option(*fd, IPPROTO_IPV6, IPV6_V6ONLY, nw.family == AF_INET6 ? 1 : 0);
  }
  if (listener && nw.socktype == SOCK_STREAM && family != AF_UNIX) {
    (void)set_int_option(*fd, SOL_SOCKET, SO_REUSEADDR, 1);
  }
  if (nw.base == "udp") (void)set_int_option(*fd, SOL_SOCKET, SO_BROADCAST, 1);
  return {fd, nullptr};
}

error bind_socket(NetFD& fd, const Addr& addr) {
  if (::bind(fd.sysfd(), addr.sockaddr_ptr(), addr.sockaddr_len()) != 0) {
    return os::syscall_error("bind", errno);
  }
  return nullptr;
}

// Resolves for listen/listen_packet; the first address is the one Go listens on.
Result<Addr> listen_address(const Network& nw, std::string_view address) {
  auto [addrs, err] = detail::resolve(nw, address, /*passive=*/true);
  if (err) return {Addr{}, err};
  if (addrs.empty()) return {Addr{}, errors::make_as<AddrError>("no suitable address found", std::string(address))};
  return {addrs.front(), nullptr};
}

Result<std::shared_ptr<NetFD>> bound_socket(const Network& nw, const Addr& addr, bool listener) {
  auto [fd, err] = open_socket(nw, addr, listener);
  if (err) return {nullptr, err};
  if (error bind_err = bind_socket(*fd, addr)) {
    (void)fd->close();
    return {nullptr, bind_err};
  }
  return {fd, nullptr};
}

// A deadline for one of `remaining` addresses (Go's partialDeadline): an even share of the
// time left, but at least 2 s, and never past the overall deadline.
time::TimePoint partial_deadline(time::TimePoint deadline, std::size_t remaining) {
  if (deadline == time::TimePoint{}) return deadline;
  auto left = deadline - time::now();
  if (left <= time::Duration::zero()) return deadline;
  auto share = left / static_cast<long>(remaining);
  constexpr auto kSaneMinimum = std::chrono::seconds(2);
  if (share < kSaneMinimum) share = std::min<time::Duration>(kSaneMinimum, left);
  return time::now() + share;
}

// Go's netFD.connect plus the dial context: a cancellable ctx aborts a connect in progress by
// moving the write deadline into the past (what Go does too).
error connect_one(NetFD& fd, const std::shared_ptr<NetFD>& keep, const Addr& addr,
                  time::TimePoint deadline, const context::Context* ctx) {
  if (deadline != time::TimePoint{}) (void)fd.set_deadline(deadline, gocxx::detail::kPollWrite);
  struct Interrupt {
    gocxx::sync::Mutex mu;
    bool connected = false;
  };
  auto interrupt = std::make_shared<Interrupt>();
  std::optional<context::StopFunc> stop;
  if (ctx && ctx->done() != RecvChan<std::monostate>::nil()) {
    stop = context::after_func(*ctx, [interrupt, keep] {
      std::lock_guard lk(interrupt->mu);
      if (!interrupt->connected) {
        (void)keep->set_deadline(time::TimePoint(std::chrono::nanoseconds(1)),
                                 gocxx::detail::kPollWrite);
      }
    });
  }
  error err = fd.connect(addr.sockaddr_ptr(), addr.sockaddr_len());
  if (stop) {
    {
      std::lock_guard lk(interrupt->mu);
      interrupt->connected = true;
    }
    (*stop)();
    if (err && ctx->err()) err = map_context_error(ctx->err());
  }
  (void)fd.set_deadline(time::TimePoint{}, gocxx::detail::kPollWrite);
  return err;
}

// Go's Dialer.deadline: a zero timeout means none; a negative one has already passed.
time::TimePoint dial_deadline(time::Duration timeout) {
  return timeout == time::Duration::zero() ? time::TimePoint{} : time::now() + timeout;
}

// `faults`: a Dialer's own (nullptr: the process-wide default). Stream networks only.
Result<Conn> dial_impl(std::string_view network, std::string_view address, time::TimePoint deadline,
                       const context::Context* ctx, const Faults* faults) {
  auto [nw, err] = detail::parse_network(network);
  if (err) return {Conn{}, op_error("dial", std::string(network), Addr{}, Addr{}, err)};
  std::shared_ptr<detail::FaultSource> source;
  if (nw.stream()) source = faults ? detail::dial_source(*faults) : detail::default_source();
  if (source && !source->active()) source = nullptr;
  std::uint64_t dial = source ? source->next_dial() : 0;
  if (ctx) {
    if (error done = ctx->err()) {
      return {Conn{}, op_error("dial", nw.name, Addr{}, Addr{}, map_context_error(done))};
    }
    if (auto d = ctx->deadline(); d && (deadline == time::TimePoint{} || *d < deadline)) {
      deadline = *d;
    }
  }
  auto [addrs, resolve_err] = detail::resolve(nw, address, /*passive=*/false);
  if (resolve_err) return {Conn{}, op_error("dial", nw.name, Addr{}, Addr{}, resolve_err)};
  error first;
  for (std::size_t i = 0; i < addrs.size(); ++i) {
    const Addr& addr = addrs[i];
    // Go's dialSerial: no new attempt once the deadline has passed or ctx is done.
    if (deadline != time::TimePoint{} && deadline <= time::now()) {
      if (!first) first = op_error("dial", nw.name, Addr{}, addr, os::err_deadline_exceeded);
      break;
    }
    if (source && source->fail_dial(dial, i)) {
      detail::observe({.kind = FaultKind::dial_fail, .op = "dial", .conn = dial, .index = i});
      if (!first) {
        first = op_error("dial", nw.name, Addr{}, addr, os::syscall_error("connect", ECONNREFUSED));
      }
      continue;
    }
    auto [fd, sock_err] = open_socket(nw, addr, false);
    error cause = sock_err;
    if (!cause) {
      cause = connect_one(*fd, fd, addr, partial_deadline(deadline, addrs.size() - i), ctx);
      if (!cause) {
        fd->set_addrs(nw.base, addr);
        // Go's selfConnect: a TCP dial to a free local port can connect to itself.
        if (is_tcp(nw) && fd->laddr() == fd->raddr() && fd->laddr()) {
          cause = os::syscall_error("connect", EADDRNOTAVAIL);
        } else {
          if (is_tcp(nw)) detail::apply_tcp_defaults(*fd);
          if (source) fd->attach_faults(source->new_conn(fd->sysfd(), is_tcp(nw)));
          return {Conn(fd), nullptr};
        }
      }
      (void)fd->close();
    }
    if (!first) first = op_error("dial", nw.name, Addr{}, addr, cause);
    if (ctx && ctx->err()) break;
  }
  if (!first) first = op_error("dial", nw.name, Addr{}, Addr{}, errors::make("no suitable address found"));
  return {Conn{}, first};
}

}  // namespace

Result<Listener> listen(std::string_view network, std::string_view address) {
  auto [nw, err] = detail::parse_network(network);
  if (!err && !nw.stream()) err = errors::make_as<UnknownNetworkError>(std::string(network));
  if (err) return {Listener{}, op_error("listen", std::string(network), Addr{}, Addr{}, err)};
  auto [addr, addr_err] = listen_address(nw, address);
  if (addr_err) return {Listener{}, op_error("listen", nw.name, Addr{}, Addr{}, addr_err)};
  auto [fd, sock_err] = bound_socket(nw, addr, true);
  if (sock_err) return {Listener{}, op_error("listen", nw.name, Addr{}, addr, sock_err)};
  if (::listen(fd->sysfd(), listen_backlog()) != 0) {
    error cause = os::syscall_error("listen", errno);
    (void)fd->close();
    return {Listener{}, op_error("listen", nw.name, Addr{}, addr, cause)};
  }
  fd->set_addrs(nw.base, Addr{});
  if (nw.family == AF_UNIX) fd->unlink_on_close(addr.string());
  return {Listener(fd), nullptr};
}

Result<PacketConn> listen_packet(std::string_view network, std::string_view address) {
  auto [nw, err] = detail::parse_network(network);
  if (!err && nw.stream()) err = errors::make_as<UnknownNetworkError>(std::string(network));
  if (err) return {PacketConn{}, op_error("listen", std::string(network), Addr{}, Addr{}, err)};
  auto [addr, addr_err] = listen_address(nw, address);
  if (addr_err) return {PacketConn{}, op_error("listen", nw.name, Addr{}, Addr{}, addr_err)};
  auto [fd, sock_err] = bound_socket(nw, addr, true);
  if (sock_err) return {PacketConn{}, op_error("listen", nw.name, Addr{}, addr, sock_err)};
  fd->set_addrs(nw.base, Addr{});
  return {PacketConn(fd), nullptr};
}

Result<Conn> dial(std::string_view network, std::string_view address) {
  return dial_impl(network, address, time::TimePoint{}, nullptr, nullptr);
}

Result<Conn> dial_timeout(std::string_view network, std::string_view address,
                          time::Duration timeout) {
  return Dialer{.timeout = timeout}.dial(network, address);
}

Result<Conn> dial_context(const context::Context& ctx, std::string_view network,
                          std::string_view address) {
  return Dialer{}.dial_context(ctx, network, address);
}

Result<Conn> Dialer::dial(std::string_view network, std::string_view address) const {
  return dial_impl(network, address, dial_deadline(timeout), nullptr, faults ? &*faults : nullptr);
}

Result<Conn> Dialer::dial_context(const context::Context& ctx, std::string_view network,
                                  std::string_view address) const {
  if (!ctx) gocxx::panic("nil context");
  return dial_impl(network, address, dial_deadline(timeout), &ctx, faults ? &*faults : nullptr);
}

}  // namespace gocxx::net

// Networks and addresses: what "tcp4" means, and "host:port" turned into socket addresses
// (addr.cpp). Internal to gocxx::net.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "gocxx/net.hpp"

namespace gocxx::net::detail {

// A parsed network name.
struct Network {
  std::string name;  // as given: "tcp", "tcp4", "udp6", "unix", ...
  std::string base;  // "tcp", "udp", "unix", "unixgram": what Addr::network() reports
  int family = 0;    // AF_UNSPEC (tcp, udp), AF_INET (tcp4, udp4), AF_INET6, AF_UNIX
  int socktype = 0;  // SOCK_STREAM or SOCK_DGRAM
  bool stream() const;
};

// "tcp", "tcp4", "tcp6", "udp", "udp4", "udp6", "unix", "unixgram"; anything else is an
// UnknownNetworkError.
Result<Network> parse_network(std::string_view name);

// The socket addresses for `address` on `net`, in the order to try them.
//  - TCP/UDP: "host:port" (split_host_port); the port is a number or a service name; the host
//    an IP literal (IPv6 with an optional %zone), a name (getaddrinfo inside gocxx::blocking,
//    filtered by the network's family), or empty: for listening (passive) the wildcard
//    address — "[::]" dual-stack for "tcp"/"udp" when IPv6 is available, else 0.0.0.0 — and
//    for dialing the loopback address, as Go does.
//  - Unix: the path itself (at most sizeof(sun_path) - 1 bytes; a leading '@' is Linux's
//    abstract namespace).
// Errors are Go's: AddrError ("missing port in address", "invalid port"), DNSError
// ("no such host"), UnknownNetworkError.
Result<std::vector<Addr>> resolve(const Network& net, std::string_view address, bool passive);

}  // namespace gocxx::net::detail

// gocxx::net addresses and errors: Go's SplitHostPort/JoinHostPort tables (net/ip_test.go),
// Addr's text for every kind of socket address, resolve() (networks, ports, service names,
// literals, empty hosts, "localhost"), lookup_host, and the texts and time-out tests of
// OpError, Errno and DNSError. Nothing here sends a packet: the only name resolved is
// "localhost", and only loopback addresses are used.
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <gocxx/chan.hpp>
#include <gocxx/context.hpp>
#include <gocxx/io.hpp>
#include <gocxx/net.hpp>
#include <gocxx/runtime.hpp>

#include "pkg/net/resolve.hpp"

namespace net = gocxx::net;
namespace os = gocxx::os;
namespace errors = gocxx::errors;
using gocxx::error;

namespace {

// ---- Go's TestSplitHostPort and TestJoinHostPort (net/ip_test.go, Go 1.19) ----

struct SplitCase {
  const char* hostport;
  const char* host;
  const char* port;
};

const SplitCase kSplitGood[] = {
    // Host name
    {"localhost:http", "localhost", "http"},
    {"localhost:80", "localhost", "80"},
    // Go-specific host name with zone identifier
    {"localhost%lo0:http", "localhost%lo0", "http"},
    {"localhost%lo0:80", "localhost%lo0", "80"},
    {"[localhost%lo0]:http", "localhost%lo0", "http"},  // Go 1 behavior
    {"[localhost%lo0]:80", "localhost%lo0", "80"},      // Go 1 behavior
    // IP literal
    {"127.0.0.1:http", "127.0.0.1", "http"},
    {"127.0.0.1:80", "127.0.0.1", "80"},
    {"[::1]:http", "::1", "http"},
    {"[::1]:80", "::1", "80"},
    // IP literal with zone identifier
    {"[::1%lo0]:http", "::1%lo0", "http"},
    {"[::1%lo0]:80", "::1%lo0", "80"},
    // Go-specific wildcard for host name
    {":http", "", "http"},  // Go 1 behavior
    {":80", "", "80"},      // Go 1 behavior
    // Go-specific wildcard for service name or transport port number
    {"golang.org:", "golang.org", ""},  // Go 1 behavior
    {"127.0.0.1:", "127.0.0.1", ""},    // Go 1 behavior
    {"[::1]:", "::1", ""},              // Go 1 behavior
    // Opaque service name
    {"golang.org:https%foo", "golang.org", "https%foo"},  // Go 1 behavior
};

TEST(SplitHostPort, GoodTable) {
  for (const auto& tt : kSplitGood) {
    auto [host, port, err] = net::split_host_port(tt.hostport);
    EXPECT_FALSE(err) << tt.hostport << ": " << err;
    EXPECT_EQ(host, tt.host) << tt.hostport;
    EXPECT_EQ(port, tt.port) << tt.hostport;
  }
}

struct SplitFailure {
  const char* hostport;
  const char* err;
};

const SplitFailure kSplitBad[] = {
    {"golang.org", "missing port in address"},
    {"127.0.0.1", "missing port in address"},
    {"[::1]", "missing port in address"},
    {"[fe80::1%lo0]", "missing port in address"},
    {"[localhost%lo0]", "missing port in address"},
    {"localhost%lo0", "missing port in address"},

    {"::1", "too many colons in address"},
    {"fe80::1%lo0", "too many colons in address"},
    {"fe80::1%lo0:80", "too many colons in address"},

    // Test cases that didn't fail in Go 1
    {"[foo:bar]", "missing port in address"},
    {"[foo:bar]baz", "missing port in address"},
    {"[foo]bar:baz", "missing port in address"},

    {"[foo]:[bar]:baz", "too many colons in address"},

    {"[foo]:[bar]baz", "unexpected '[' in address"},
    {"foo[bar]:baz", "unexpected '[' in address"},

    {"foo]bar:baz", "unexpected ']' in address"},

    // Not in Go's table: the empty string (Go indexes hostport[0] only after finding a ':').
    {"", "missing port in address"},
};

TEST(SplitHostPort, BadTable) {
  for (const auto& tt : kSplitBad) {
    auto [host, port, err] = net::split_host_port(tt.hostport);
    ASSERT_TRUE(err) << tt.hostport << " should have failed";
    const auto* ae = errors::as<net::AddrError>(err);
    ASSERT_NE(ae, nullptr) << tt.hostport << ": " << err;
    EXPECT_EQ(ae->err, tt.err) << tt.hostport;
    EXPECT_EQ(ae->addr, tt.hostport);
    EXPECT_EQ(err.message(), std::string("address ") + tt.hostport + ": " + tt.err);
    EXPECT_EQ(host, "") << tt.hostport;
    EXPECT_EQ(port, "") << tt.hostport;
  }
}

TEST(JoinHostPort, Table) {
  struct Case {
    const char* host;
    const char* port;
    const char* hostport;
  };
  const Case cases[] = {
      // Host name
      {"localhost", "http", "localhost:http"},
      {"localhost", "80", "localhost:80"},
      // Go-specific host name with zone identifier
      {"localhost%lo0", "http", "localhost%lo0:http"},
      {"localhost%lo0", "80", "localhost%lo0:80"},
      // IP literal
      {"127.0.0.1", "http", "127.0.0.1:http"},
      {"127.0.0.1", "80", "127.0.0.1:80"},
      {"::1", "http", "[::1]:http"},
      {"::1", "80", "[::1]:80"},
      // IP literal with zone identifier
      {"::1%lo0", "http", "[::1%lo0]:http"},
      {"::1%lo0", "80", "[::1%lo0]:80"},
      // Go-specific wildcard for host name
      {"", "http", ":http"},  // Go 1 behavior
      {"", "80", ":80"},      // Go 1 behavior
      // Go-specific wildcard for service name or transport port number
      {"golang.org", "", "golang.org:"},  // Go 1 behavior
      {"127.0.0.1", "", "127.0.0.1:"},    // Go 1 behavior
      {"::1", "", "[::1]:"},              // Go 1 behavior
      // Opaque service name
      {"golang.org", "https%foo", "golang.org:https%foo"},  // Go 1 behavior
  };
  for (const auto& tt : cases) {
    EXPECT_EQ(net::join_host_port(tt.host, tt.port), tt.hostport);
    // And back (Go's TestJoinHostPort checks the round trip the same way).
    auto [host, port, err] = net::split_host_port(tt.hostport);
    EXPECT_FALSE(err) << tt.hostport;
    EXPECT_EQ(host, tt.host);
    EXPECT_EQ(port, tt.port);
  }
}

// ---- Addr ----

net::Addr v4(const char* ip, int port, const char* network = "tcp") {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(static_cast<uint16_t>(port));
  EXPECT_EQ(inet_pton(AF_INET, ip, &sin.sin_addr), 1) << ip;
  return net::Addr(network, reinterpret_cast<const sockaddr*>(&sin), sizeof sin);
}

net::Addr v6(const char* ip, int port, uint32_t scope = 0) {
  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  sin6.sin6_port = htons(static_cast<uint16_t>(port));
  sin6.sin6_scope_id = scope;
  EXPECT_EQ(inet_pton(AF_INET6, ip, &sin6.sin6_addr), 1) << ip;
  return net::Addr("tcp", reinterpret_cast<const sockaddr*>(&sin6), sizeof sin6);
}

// A sockaddr_un as the kernel reports it (getsockname): abstract names have no trailing NUL.
net::Addr unix_addr(std::string_view name, bool abstract, const char* network = "unix") {
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  std::size_t off = abstract ? 1 : 0;
  std::memcpy(un.sun_path + off, name.data(), name.size());
  auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + off + name.size() +
                                    (abstract ? 0 : 1));
  return net::Addr(network, reinterpret_cast<const sockaddr*>(&un), len);
}

TEST(Addr, Nil) {
  net::Addr a;
  EXPECT_FALSE(a);
  EXPECT_EQ(a.string(), "");
  EXPECT_EQ(a.ip(), "");
  EXPECT_EQ(a.port(), 0);
  std::ostringstream out;
  out << a;
  EXPECT_EQ(out.str(), "<nil>");
  EXPECT_EQ(a, net::Addr("tcp", nullptr, 0));
}

TEST(Addr, IPv4) {
  auto a = v4("127.0.0.1", 80);
  EXPECT_TRUE(a);
  EXPECT_EQ(a.network(), "tcp");
  EXPECT_EQ(a.string(), "127.0.0.1:80");
  EXPECT_EQ(a.ip(), "127.0.0.1");
  EXPECT_EQ(a.port(), 80);
  EXPECT_EQ(v4("0.0.0.0", 0).string(), "0.0.0.0:0");
  EXPECT_EQ(v4("255.255.255.255", 65535, "udp").string(), "255.255.255.255:65535");
  EXPECT_EQ(a, v4("127.0.0.1", 80));
  EXPECT_FALSE(a == v4("127.0.0.1", 80, "udp"));  // Go's Addr values differ by type
  EXPECT_EQ(a.sockaddr_len(), sizeof(sockaddr_in));
  EXPECT_EQ(a.sockaddr_ptr()->sa_family, AF_INET);
}

// The expected texts are Go 1.19's (&net.TCPAddr{IP: net.ParseIP(ip), Port: 80}).String().
TEST(Addr, IPv6LikeGo) {
  struct Case {
    const char* ip;
    const char* want;
  };
  const Case cases[] = {
      {"::1", "[::1]:80"},
      {"::", "[::]:80"},
      {"fe80::1", "[fe80::1]:80"},
      {"1::", "[1::]:80"},
      {"::2:3", "[::2:3]:80"},                             // glibc's inet_ntop: ::0.2.0.3
      {"::1.2.3.4", "[::102:304]:80"},                     // IPv4-compatible: not dotted
      {"2001:db8:0:0:1:0:0:1", "[2001:db8::1:0:0:1]:80"},  // the first of two equal runs
      {"0:0:1::", "[0:0:1::]:80"},                         // the longest run
      {"1:0:1:0:1:0:1:0", "[1:0:1:0:1:0:1:0]:80"},         // one zero group stays
      {"2001:DB8::ABCD", "[2001:db8::abcd]:80"},           // lowercase
      {"::ffff:1.2.3.4", "1.2.3.4:80"},                    // IPv4-mapped prints as IPv4
  };
  for (const auto& tt : cases) EXPECT_EQ(v6(tt.ip, 80).string(), tt.want) << tt.ip;
  auto a = v6("::1", 443);
  EXPECT_EQ(a.ip(), "::1");
  EXPECT_EQ(a.port(), 443);
  EXPECT_EQ(v6("::ffff:127.0.0.1", 1).ip(), "127.0.0.1");
}

TEST(Addr, IPv6Zone) {
  // An index with an interface prints its name; one without prints the number (Go's
  // zoneCache.name). ip() never has the zone.
  unsigned lo = if_nametoindex("lo");
  if (lo != 0) {
    auto a = v6("fe80::1", 80, lo);
    EXPECT_EQ(a.string(), "[fe80::1%lo]:80");
    EXPECT_EQ(a.ip(), "fe80::1");
  }
  EXPECT_EQ(v6("fe80::1", 80, 987654).string(), "[fe80::1%987654]:80");
}

TEST(Addr, Unix) {
  auto a = unix_addr("/tmp/gocxx.sock", false);
  EXPECT_EQ(a.string(), "/tmp/gocxx.sock");
  EXPECT_EQ(a.network(), "unix");
  EXPECT_EQ(a.ip(), "");
  EXPECT_EQ(a.port(), 0);
  // Abstract names print with '@' for the leading NUL, as Go does.
  EXPECT_EQ(unix_addr("gocxx-test", true, "unixgram").string(), "@gocxx-test");
  // An unnamed socket (an unbound or autobind request) has an empty name.
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  net::Addr unnamed("unix", reinterpret_cast<const sockaddr*>(&un), sizeof(sa_family_t));
  EXPECT_TRUE(unnamed);
  EXPECT_EQ(unnamed.string(), "");
  // A path that fills sun_path (no NUL within the length) is read up to the length.
  std::string longest(sizeof un.sun_path, 'x');
  std::memcpy(un.sun_path, longest.data(), longest.size());
  net::Addr full("unix", reinterpret_cast<const sockaddr*>(&un), sizeof un);
  EXPECT_EQ(full.string(), longest);
}

// ---- parse_network and resolve ----

net::detail::Network network(std::string_view name) {
  auto [n, err] = net::detail::parse_network(name);
  EXPECT_FALSE(err) << name << ": " << err;
  return n;
}

std::vector<std::string> strings(const std::vector<net::Addr>& addrs) {
  std::vector<std::string> out;
  for (const auto& a : addrs) out.push_back(a.string());
  return out;
}

// resolve()'s addresses as text, or the error's text.
std::string resolve(std::string_view net_name, std::string_view address, bool passive = false) {
  auto [addrs, err] = net::detail::resolve(network(net_name), address, passive);
  if (err) return "error: " + err.message();
  std::string s;
  for (const auto& a : addrs) s += (s.empty() ? "" : " ") + a.string();
  return s;
}

bool have_ipv6() {
  int fd = ::socket(AF_INET6, SOCK_STREAM, 0);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

TEST(ParseNetwork, Known) {
  struct Case {
    const char* name;
    const char* base;
    int family, socktype;
  };
  const Case cases[] = {
      {"tcp", "tcp", AF_UNSPEC, SOCK_STREAM},  {"tcp4", "tcp", AF_INET, SOCK_STREAM},
      {"tcp6", "tcp", AF_INET6, SOCK_STREAM},  {"udp", "udp", AF_UNSPEC, SOCK_DGRAM},
      {"udp4", "udp", AF_INET, SOCK_DGRAM},    {"udp6", "udp", AF_INET6, SOCK_DGRAM},
      {"unix", "unix", AF_UNIX, SOCK_STREAM},  {"unixgram", "unixgram", AF_UNIX, SOCK_DGRAM},
  };
  for (const auto& tt : cases) {
    auto n = network(tt.name);
    EXPECT_EQ(n.name, tt.name);
    EXPECT_EQ(n.base, tt.base);
    EXPECT_EQ(n.family, tt.family) << tt.name;
    EXPECT_EQ(n.socktype, tt.socktype) << tt.name;
    EXPECT_EQ(n.stream(), tt.socktype == SOCK_STREAM);
  }
}

TEST(ParseNetwork, Unknown) {
  for (const char* name : {"", "foo", "TCP", "tcp5", "ip", "unixpacket"}) {
    auto [n, err] = net::detail::parse_network(name);
    ASSERT_TRUE(err) << name;
    const auto* e = errors::as<net::UnknownNetworkError>(err);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->name, name);
    EXPECT_EQ(err.message(), std::string("unknown network ") + name);
  }
}

TEST(Resolve, Literals) {
  EXPECT_EQ(resolve("tcp", "127.0.0.1:80"), "127.0.0.1:80");
  EXPECT_EQ(resolve("tcp4", "127.0.0.1:80"), "127.0.0.1:80");
  EXPECT_EQ(resolve("udp", "127.0.0.2:53"), "127.0.0.2:53");
  EXPECT_EQ(resolve("tcp", "[::1]:80"), "[::1]:80");
  EXPECT_EQ(resolve("tcp6", "[::1]:80"), "[::1]:80");
  EXPECT_EQ(resolve("udp6", "[::1]:0"), "[::1]:0");
  // IPv4-mapped is IPv4 (Go's To4): an AF_INET address, fine for tcp4 and not for tcp6.
  EXPECT_EQ(resolve("tcp4", "[::ffff:127.0.0.1]:7"), "127.0.0.1:7");
  {
    auto [addrs, err] = net::detail::resolve(network("tcp"), "[::ffff:127.0.0.1]:7", false);
    ASSERT_FALSE(err);
    ASSERT_EQ(addrs.size(), 1u);
    EXPECT_EQ(addrs[0].sockaddr_ptr()->sa_family, AF_INET);
    EXPECT_EQ(addrs[0].sockaddr_len(), sizeof(sockaddr_in));
  }
  // Go's "dial tcp6: address 127.0.0.1: no suitable address found".
  EXPECT_EQ(resolve("tcp6", "127.0.0.1:80"),
            "error: address 127.0.0.1: no suitable address found");
  EXPECT_EQ(resolve("tcp4", "[::1]:80"), "error: address ::1: no suitable address found");
  EXPECT_EQ(resolve("udp6", "[::ffff:1.2.3.4]:80"),
            "error: address ::ffff:1.2.3.4: no suitable address found");
  // The Addr's network is the base network; the sockaddr is what bind/connect need.
  auto [addrs, err] = net::detail::resolve(network("tcp4"), "127.0.0.1:8080", true);
  ASSERT_FALSE(err);
  ASSERT_EQ(addrs.size(), 1u);
  EXPECT_EQ(addrs[0].network(), "tcp");
  EXPECT_EQ(addrs[0].port(), 8080);
  const auto* sin = reinterpret_cast<const sockaddr_in*>(addrs[0].sockaddr_ptr());
  EXPECT_EQ(sin->sin_addr.s_addr, htonl(INADDR_LOOPBACK));
  EXPECT_EQ(ntohs(sin->sin_port), 8080);
}

TEST(Resolve, Zone) {
  // A zone becomes sin6_scope_id: an interface name, or a number.
  auto scope = [](std::string_view address) -> uint32_t {
    auto [addrs, err] = net::detail::resolve(network("tcp6"), address, false);
    EXPECT_FALSE(err) << address << ": " << err;
    if (addrs.empty()) return ~0u;
    return reinterpret_cast<const sockaddr_in6*>(addrs[0].sockaddr_ptr())->sin6_scope_id;
  };
  EXPECT_EQ(scope("[fe80::1%42]:80"), 42u);
  EXPECT_EQ(resolve("tcp6", "[fe80::1%42]:80"), "[fe80::1%42]:80");
  EXPECT_EQ(scope("[fe80::1]:80"), 0u);
  if (unsigned lo = if_nametoindex("lo"); lo != 0) {
    EXPECT_EQ(scope("[fe80::1%lo]:80"), lo);
    EXPECT_EQ(resolve("tcp", "[fe80::1%lo]:80"), "[fe80::1%lo]:80");
  }
}

TEST(Resolve, EmptyHost) {
  // Dialing ":80" reaches the local system: the loopback address.
  EXPECT_EQ(resolve("tcp", ":80"), "127.0.0.1:80");
  EXPECT_EQ(resolve("tcp4", ":80"), "127.0.0.1:80");
  EXPECT_EQ(resolve("tcp6", ":80"), "[::1]:80");
  EXPECT_EQ(resolve("udp", ":53"), "127.0.0.1:53");
  // Listening on ":80" listens everywhere: dual-stack [::] for tcp/udp where IPv6 exists.
  const std::string any = have_ipv6() ? "[::]" : "0.0.0.0";
  EXPECT_EQ(resolve("tcp", ":80", true), any + ":80");
  EXPECT_EQ(resolve("udp", ":0", true), any + ":0");
  EXPECT_EQ(resolve("tcp4", ":80", true), "0.0.0.0:80");
  EXPECT_EQ(resolve("udp4", ":80", true), "0.0.0.0:80");
  EXPECT_EQ(resolve("tcp6", ":80", true), "[::]:80");
  // An empty port is port 0 (Go's "127.0.0.1:").
  EXPECT_EQ(resolve("tcp", "127.0.0.1:", true), "127.0.0.1:0");
  // An empty address: Go's Listen("tcp", "") is every address, port 0; Dial needs one.
  EXPECT_EQ(resolve("tcp4", "", true), "0.0.0.0:0");
  EXPECT_EQ(resolve("tcp", ""), "error: missing address");
  EXPECT_EQ(resolve("udp6", ""), "error: missing address");
}

TEST(Resolve, Localhost) {
  // Only "localhost" is resolved (from /etc/hosts): every address must be loopback, IPv4 first.
  auto [addrs, err] = net::detail::resolve(network("tcp"), "localhost:8080", false);
  ASSERT_FALSE(err) << err;
  ASSERT_FALSE(addrs.empty());
  bool seen_v6 = false;
  for (const auto& a : addrs) {
    EXPECT_EQ(a.port(), 8080);
    EXPECT_EQ(a.network(), "tcp");
    if (a.sockaddr_ptr()->sa_family == AF_INET) {
      EXPECT_FALSE(seen_v6) << "IPv4 addresses come first";
      EXPECT_EQ(a.ip().rfind("127.", 0), 0u) << a;
    } else {
      seen_v6 = true;
      EXPECT_EQ(a.ip(), "::1");
    }
  }
  // No duplicates (getaddrinfo lists an address once per socket type unless asked).
  auto s = strings(addrs);
  std::sort(s.begin(), s.end());
  EXPECT_EQ(std::adjacent_find(s.begin(), s.end()), s.end());

  // tcp4 keeps the IPv4 ones.
  auto [v4s, err4] = net::detail::resolve(network("tcp4"), "localhost:http", true);
  ASSERT_FALSE(err4) << err4;
  for (const auto& a : v4s) {
    EXPECT_EQ(a.sockaddr_ptr()->sa_family, AF_INET);
    EXPECT_EQ(a.port(), 80);
  }
}

TEST(Resolve, Ports) {
  // Go's parsePort: a sign is allowed, out of range is "invalid port" naming the port.
  EXPECT_EQ(resolve("tcp", "127.0.0.1:0"), "127.0.0.1:0");
  EXPECT_EQ(resolve("tcp", "127.0.0.1:65535"), "127.0.0.1:65535");
  EXPECT_EQ(resolve("tcp", "127.0.0.1:+80"), "127.0.0.1:80");
  EXPECT_EQ(resolve("tcp", "127.0.0.1:0080"), "127.0.0.1:80");
  EXPECT_EQ(resolve("tcp", "127.0.0.1:65536"), "error: address 65536: invalid port");
  EXPECT_EQ(resolve("tcp", "127.0.0.1:-1"), "error: address -1: invalid port");
  EXPECT_EQ(resolve("udp", "127.0.0.1:123456789"), "error: address 123456789: invalid port");
  EXPECT_EQ(resolve("tcp", "127.0.0.1:99999999999999999999999"),
            "error: address 99999999999999999999999: invalid port");
  auto [addrs, err] = net::detail::resolve(network("tcp"), "127.0.0.1:-1", false);
  ASSERT_NE(errors::as<net::AddrError>(err), nullptr);
  EXPECT_EQ(errors::as<net::AddrError>(err)->err, "invalid port");
  // Malformed host:port: SplitHostPort's AddrError.
  EXPECT_EQ(resolve("tcp", "127.0.0.1"), "error: address 127.0.0.1: missing port in address");
  EXPECT_EQ(resolve("tcp", "::1:80"), "error: address ::1:80: too many colons in address");
}

TEST(Resolve, ServiceNames) {
  // /etc/services, or Go's built-in table where the system has none.
  EXPECT_EQ(resolve("tcp", "127.0.0.1:http"), "127.0.0.1:80");
  EXPECT_EQ(resolve("tcp4", "127.0.0.1:HTTPS"), "127.0.0.1:443");  // case-insensitive
  EXPECT_EQ(resolve("tcp6", "[::1]:ssh"), "[::1]:22");
  EXPECT_EQ(resolve("udp", "127.0.0.1:domain"), "127.0.0.1:53");
  // Go (pure resolver, Linux's default): "dial tcp: address tcp/nosuchservice: unknown port".
  EXPECT_EQ(resolve("tcp", "127.0.0.1:nosuchservice"),
            "error: address tcp/nosuchservice: unknown port");
  EXPECT_EQ(resolve("udp6", "[::1]:nosuchservice"),
            "error: address udp/nosuchservice: unknown port");
  EXPECT_EQ(resolve("tcp", "127.0.0.1:80x"), "error: address tcp/80x: unknown port");
}

TEST(Resolve, Unix) {
  auto [addrs, err] = net::detail::resolve(network("unix"), "/tmp/gocxx-test.sock", false);
  ASSERT_FALSE(err) << err;
  ASSERT_EQ(addrs.size(), 1u);
  EXPECT_EQ(addrs[0].network(), "unix");
  EXPECT_EQ(addrs[0].string(), "/tmp/gocxx-test.sock");
  const auto* un = reinterpret_cast<const sockaddr_un*>(addrs[0].sockaddr_ptr());
  EXPECT_EQ(un->sun_family, AF_UNIX);
  EXPECT_STREQ(un->sun_path, "/tmp/gocxx-test.sock");
  EXPECT_EQ(addrs[0].sockaddr_len(), offsetof(sockaddr_un, sun_path) + 21);  // with the NUL

  // '@' is the abstract namespace: a leading NUL and no trailing one.
  auto [abs, aerr] = net::detail::resolve(network("unixgram"), "@gocxx-abstract", true);
  ASSERT_FALSE(aerr) << aerr;
  ASSERT_EQ(abs.size(), 1u);
  EXPECT_EQ(abs[0].network(), "unixgram");
  EXPECT_EQ(abs[0].string(), "@gocxx-abstract");
  const auto* aun = reinterpret_cast<const sockaddr_un*>(abs[0].sockaddr_ptr());
  EXPECT_EQ(aun->sun_path[0], '\0');
  EXPECT_EQ(std::string(aun->sun_path + 1, 14), "gocxx-abstract");
  EXPECT_EQ(abs[0].sockaddr_len(), offsetof(sockaddr_un, sun_path) + 15);

  // Limits: a path needs room for its NUL; an abstract name does not.
  constexpr std::size_t kPath = sizeof(sockaddr_un{}.sun_path);
  EXPECT_EQ(resolve("unix", std::string(kPath - 1, 'p')), std::string(kPath - 1, 'p'));
  EXPECT_NE(resolve("unix", std::string(kPath, 'p')).find("error: address ppp"),
            std::string::npos);
  std::string longest_abstract = "@" + std::string(kPath - 1, 'a');
  EXPECT_EQ(resolve("unix", longest_abstract), longest_abstract);
  EXPECT_EQ(resolve("unix", longest_abstract + "a").rfind("error: ", 0), 0u);

  // "": dialing needs an address; listening autobinds (a bare sockaddr_un, no name).
  EXPECT_EQ(resolve("unix", ""), "error: missing address");
  auto [auto_addrs, auto_err] = net::detail::resolve(network("unix"), "", true);
  ASSERT_FALSE(auto_err);
  ASSERT_EQ(auto_addrs.size(), 1u);
  EXPECT_TRUE(auto_addrs[0]);
  EXPECT_EQ(auto_addrs[0].sockaddr_len(), sizeof(sa_family_t));
  EXPECT_EQ(auto_addrs[0].string(), "");
}

// ---- lookup_host ----

void check_lookup_host() {
  // Literals come back as written, without the resolver.
  for (const char* lit : {"127.0.0.1", "::1", "fe80::1%lo", "::ffff:1.2.3.4"}) {
    auto [addrs, err] = net::lookup_host(lit);
    EXPECT_FALSE(err) << lit << ": " << err;
    EXPECT_EQ(addrs, std::vector<std::string>{lit});
  }
  auto [addrs, err] = net::lookup_host("localhost");
  ASSERT_FALSE(err) << err;
  ASSERT_FALSE(addrs.empty());
  for (const auto& a : addrs) EXPECT_TRUE(a.rfind("127.", 0) == 0 || a == "::1") << a;
  auto sorted = addrs;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(std::adjacent_find(sorted.begin(), sorted.end()), sorted.end());

  // Go's "lookup : no such host".
  auto [none, nerr] = net::lookup_host("");
  ASSERT_TRUE(nerr);
  EXPECT_EQ(nerr.message(), "lookup : no such host");
  const auto* dns = errors::as<net::DNSError>(nerr);
  ASSERT_NE(dns, nullptr);
  EXPECT_TRUE(dns->not_found);
  EXPECT_FALSE(dns->timeout());
  EXPECT_TRUE(none.empty());
}

TEST(LookupHost, PlainThread) { check_lookup_host(); }

TEST(LookupHost, FromGoroutines) {
  // Inside a run, getaddrinfo runs under gocxx::blocking; several goroutines at once with one
  // P must all finish.
  gocxx::run(
      [] {
        gocxx::Chan<bool> done;
        constexpr int kN = 4;
        for (int i = 0; i < kN; ++i) {
          gocxx::go([done]() mutable {
            check_lookup_host();
            auto [addrs, err] = net::detail::resolve(network("tcp"), "localhost:http", false);
            EXPECT_FALSE(err) << err;
            EXPECT_FALSE(addrs.empty());
            done.send(true);
          });
        }
        for (int i = 0; i < kN; ++i) done.recv();
      },
      gocxx::Options{.procs = 1});
}

// ---- errors: Errno, SyscallError, OpError, DNSError, is_timeout ----

TEST(Errno, Messages) {
  EXPECT_EQ(os::Errno(ECONNREFUSED).message(), "connection refused");
  EXPECT_EQ(os::Errno(ECONNRESET).message(), "connection reset by peer");
  EXPECT_EQ(os::Errno(EMFILE).message(), "too many open files");
  EXPECT_EQ(os::Errno(EAGAIN).message(), "resource temporarily unavailable");
  EXPECT_EQ(os::Errno(ETIMEDOUT).message(), "connection timed out");
  EXPECT_EQ(os::Errno(EPIPE).message(), "broken pipe");
  EXPECT_EQ(os::Errno(EADDRINUSE).message(), "address already in use");
  EXPECT_EQ(os::Errno(73).message(), "RFS specific error");  // Go keeps the acronym
  EXPECT_EQ(os::Errno(0).message(), "errno 0");
  EXPECT_EQ(os::Errno(9999).message(), "errno 9999");
  EXPECT_EQ(os::Errno(-3).message(), "errno -3");
}

TEST(Errno, TimeoutAndTemporary) {
  for (int e : {EAGAIN, EWOULDBLOCK, ETIMEDOUT}) {
    EXPECT_TRUE(os::Errno(e).timeout()) << e;
    EXPECT_TRUE(os::Errno(e).temporary()) << e;
  }
  for (int e : {EINTR, EMFILE, ENFILE, ECONNRESET, ECONNABORTED}) {
    EXPECT_FALSE(os::Errno(e).timeout()) << e;
    EXPECT_TRUE(os::Errno(e).temporary()) << e;
  }
  for (int e : {ECONNREFUSED, EPIPE, EBADF}) {
    EXPECT_FALSE(os::Errno(e).timeout()) << e;
    EXPECT_FALSE(os::Errno(e).temporary()) << e;
  }
}

TEST(Errno, Helpers) {
  error e = os::errno_error(ECONNREFUSED);
  EXPECT_EQ(e.message(), "connection refused");
  EXPECT_EQ(os::errno_of(e), ECONNREFUSED);

  error s = os::syscall_error("connect", ECONNREFUSED);
  EXPECT_EQ(s.message(), "connect: connection refused");
  ASSERT_NE(errors::as<os::SyscallError>(s), nullptr);
  EXPECT_EQ(errors::as<os::SyscallError>(s)->syscall, "connect");
  EXPECT_EQ(os::errno_of(s), ECONNREFUSED);
  EXPECT_EQ(os::errno_of(errors::wrap(s, "outer")), ECONNREFUSED);
  EXPECT_EQ(os::errno_of(errors::make("no errno")), 0);
  EXPECT_EQ(os::errno_of(nullptr), 0);
}

net::Addr loopback(int port) { return v4("127.0.0.1", port); }

TEST(OpError, MessageLikeGo) {
  // Go's OpError.Error: op, net, source->addr (either alone), then the cause.
  error dial = errors::make_as<net::OpError>("dial", "tcp", net::Addr(), loopback(1),
                                             os::syscall_error("connect", ECONNREFUSED));
  EXPECT_EQ(dial.message(), "dial tcp 127.0.0.1:1: connect: connection refused");
  EXPECT_EQ(os::errno_of(dial), ECONNREFUSED);
  EXPECT_FALSE(net::is_timeout(dial));

  error read = errors::make_as<net::OpError>("read", "tcp", loopback(5), loopback(6),
                                             os::err_deadline_exceeded);
  EXPECT_EQ(read.message(), "read tcp 127.0.0.1:5->127.0.0.1:6: i/o timeout");
  EXPECT_TRUE(errors::is(read, os::err_deadline_exceeded));
  EXPECT_TRUE(net::is_timeout(read));
  EXPECT_TRUE(errors::as<net::OpError>(read)->timeout());

  // Source only (Go's listen errors carry the address as Source sometimes); neither.
  error src =
      errors::make_as<net::OpError>("write", "udp", loopback(7), net::Addr(), net::err_closed);
  EXPECT_EQ(src.message(), "write udp 127.0.0.1:7: use of closed network connection");
  EXPECT_TRUE(errors::is(src, net::err_closed));
  error bare = errors::make_as<net::OpError>("dial", "tcp", net::Addr(), net::Addr(),
                                             errors::make("missing address"));
  EXPECT_EQ(bare.message(), "dial tcp: missing address");
  // No network: Go leaves it out.
  error nonet = errors::make_as<net::OpError>("set", "", net::Addr(), net::Addr(),
                                              os::errno_error(EBADF));
  EXPECT_EQ(nonet.message(), "set: bad file descriptor");

  // IPv6 and Unix addresses.
  error v6err = errors::make_as<net::OpError>("accept", "tcp", net::Addr(), v6("::1", 8080),
                                              os::syscall_error("accept4", EMFILE));
  EXPECT_EQ(v6err.message(), "accept tcp [::1]:8080: accept4: too many open files");
  error uerr = errors::make_as<net::OpError>("dial", "unix", net::Addr(),
                                             unix_addr("/tmp/x.sock", false),
                                             os::syscall_error("connect", ENOENT));
  EXPECT_EQ(uerr.message(), "dial unix /tmp/x.sock: connect: no such file or directory");

  // An OpError around resolve()'s errors reads as Go's does.
  auto [addrs, err] = net::detail::resolve(network("tcp"), "127.0.0.1:-1", false);
  error wrapped = errors::make_as<net::OpError>("dial", "tcp", net::Addr(), net::Addr(), err);
  EXPECT_EQ(wrapped.message(), "dial tcp: address -1: invalid port");
  auto [n, nerr] = net::detail::parse_network("foo");
  error unknown = errors::make_as<net::OpError>("dial", "foo", net::Addr(), net::Addr(), nerr);
  EXPECT_EQ(unknown.message(), "dial foo: unknown network foo");
}

TEST(IsTimeout, WrappedCauses) {
  auto op = [](error cause) {
    return errors::make_as<net::OpError>("read", "tcp", loopback(5), loopback(6), cause);
  };
  // Deadlines: os's and context's, directly, in an OpError, and wrapped further.
  EXPECT_TRUE(net::is_timeout(os::err_deadline_exceeded));
  EXPECT_TRUE(net::is_timeout(gocxx::context::deadline_exceeded));
  EXPECT_TRUE(net::is_timeout(op(gocxx::context::deadline_exceeded)));
  EXPECT_TRUE(net::is_timeout(errors::wrap(op(os::err_deadline_exceeded), "fetching")));
  // Errno: ETIMEDOUT and EAGAIN are time-outs, through a SyscallError too.
  EXPECT_TRUE(net::is_timeout(op(os::syscall_error("connect", ETIMEDOUT))));
  EXPECT_TRUE(net::is_timeout(op(os::errno_error(EAGAIN))));
  EXPECT_TRUE(errors::as<net::OpError>(op(os::syscall_error("connect", ETIMEDOUT)))->timeout());
  EXPECT_FALSE(net::is_timeout(op(os::syscall_error("connect", ECONNREFUSED))));
  EXPECT_FALSE(errors::as<net::OpError>(op(os::errno_error(ECONNRESET)))->timeout());
  // DNS: only a time-out is one.
  error dns_timeout = errors::make_as<net::DNSError>("i/o timeout", "example.test", false, true);
  error dns_missing = errors::make_as<net::DNSError>("no such host", "example.test", true, false);
  EXPECT_EQ(dns_missing.message(), "lookup example.test: no such host");
  EXPECT_TRUE(net::is_timeout(op(dns_timeout)));
  EXPECT_FALSE(net::is_timeout(op(dns_missing)));
  // Not time-outs.
  EXPECT_FALSE(net::is_timeout(nullptr));
  EXPECT_FALSE(net::is_timeout(gocxx::io::eof));
  EXPECT_FALSE(net::is_timeout(op(net::err_closed)));
  EXPECT_FALSE(net::is_timeout(op(gocxx::context::canceled)));
  EXPECT_FALSE(net::is_timeout(errors::make_as<net::AddrError>("invalid port", "-1")));
}

}  // namespace

// gocxx::net addresses: Addr's text (Go's TCPAddr/UDPAddr/UnixAddr String), Go's
// SplitHostPort/JoinHostPort and LookupHost, and resolve(): "host:port" on a network turned
// into the socket addresses to bind or connect to.
//
// Names are resolved with the C library (getaddrinfo, getservbyname_r), as Go's cgo resolver
// does, always inside gocxx::blocking: they may read files or wait for a DNS server, and must
// not hold a P meanwhile. IP literals and numeric ports never reach the resolver.
#include <arpa/inet.h>
#include <net/if.h>
#include <netdb.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gocxx/runtime.hpp"
#include "resolve.hpp"

namespace gocxx::net {
namespace {

// A socket address as resolve() builds it, before it becomes an Addr.
struct SockAddr {
  sockaddr_storage ss{};
  socklen_t len = 0;
  const sockaddr* sa() const { return reinterpret_cast<const sockaddr*>(&ss); }
  bool operator==(const SockAddr& o) const {
    return len == o.len && std::memcmp(&ss, &o.ss, len) == 0;
  }
};

SockAddr from_in(const in_addr& ip, int port) {
  SockAddr a;
  auto* sin = reinterpret_cast<sockaddr_in*>(&a.ss);
  sin->sin_family = AF_INET;
  sin->sin_addr = ip;
  sin->sin_port = htons(static_cast<std::uint16_t>(port));
  a.len = sizeof(sockaddr_in);
  return a;
}

// An IPv6 address, except that an IPv4-mapped one (::ffff:a.b.c.d) becomes IPv4: Go treats
// it as IPv4 everywhere (IP.To4), so "tcp4" accepts it and "tcp6" does not.
SockAddr from_in6(const in6_addr& ip, std::uint32_t scope, int port) {
  if (IN6_IS_ADDR_V4MAPPED(&ip)) {
    in_addr v4;
    std::memcpy(&v4, ip.s6_addr + 12, 4);
    return from_in(v4, port);
  }
  SockAddr a;
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(&a.ss);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_addr = ip;
  sin6->sin6_scope_id = scope;
  sin6->sin6_port = htons(static_cast<std::uint16_t>(port));
  a.len = sizeof(sockaddr_in6);
  return a;
}

void set_port(SockAddr& a, int port) {
  auto p = htons(static_cast<std::uint16_t>(port));
  if (a.ss.ss_family == AF_INET) reinterpret_cast<sockaddr_in*>(&a.ss)->sin_port = p;
  if (a.ss.ss_family == AF_INET6) reinterpret_cast<sockaddr_in6*>(&a.ss)->sin6_port = p;
}

std::string format_ipv4(const unsigned char* b) {
  char buf[INET_ADDRSTRLEN];
  std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
  return buf;
}

// Go's IP.String for an IPv6 address. Not inet_ntop: glibc prints ::ffff:1.2.3.4 and
// ::a.b.c.d forms that Go does not. Go prints a mapped address as IPv4, and otherwise
// (RFC 5952) lowercase hex groups with the longest run of two or more zero groups (the first,
// on a tie) as "::".
std::string format_ipv6(const in6_addr& ip) {
  const unsigned char* b = ip.s6_addr;
  if (IN6_IS_ADDR_V4MAPPED(&ip)) return format_ipv4(b + 12);
  std::array<unsigned, 8> g{};
  for (int i = 0; i < 8; ++i) g[i] = unsigned{b[2 * i]} << 8 | b[2 * i + 1];
  int zeros_at = -1, zeros_len = 1;  // a run must be longer than 1 to be elided
  for (int i = 0; i < 8;) {
    int j = i;
    while (j < 8 && g[j] == 0) ++j;
    if (j - i > zeros_len) zeros_at = i, zeros_len = j - i;
    i = j == i ? i + 1 : j;
  }
  std::string s;
  char buf[8];
  for (int i = 0; i < 8; ++i) {
    if (i == zeros_at) {
      s += "::";
      i += zeros_len - 1;
      continue;
    }
    if (!s.empty() && s.back() != ':') s += ':';
    std::snprintf(buf, sizeof buf, "%x", g[i]);
    s += buf;
  }
  return s;
}

// Go's zoneCache: an interface index as its name ("eth0"), or the number if there is no such
// interface; and back, where a zone that is neither a name nor a number is 0 (Go's dtoi).
std::string zone_name(std::uint32_t index) {
  char buf[IF_NAMESIZE];
  if (if_indextoname(index, buf) != nullptr) return buf;
  return std::to_string(index);
}

std::uint32_t zone_index(std::string_view zone) {
  if (zone.empty()) return 0;
  if (unsigned i = if_nametoindex(std::string(zone).c_str()); i != 0) return i;
  std::uint32_t n = 0;
  for (char c : zone) {
    if (c < '0' || c > '9' || n > 0xffffff) break;
    n = n * 10 + static_cast<std::uint32_t>(c - '0');
  }
  return n;
}

// An IP literal as Go's parseIPZone reads it: the first '.' or ':' decides between IPv4
// ("1.2.3.4", no zone) and IPv6 ("fe80::1%eth0", the zone after the last '%').
std::optional<SockAddr> parse_ip_literal(std::string_view host) {
  auto sep = host.find_first_of(".:");
  if (sep == std::string_view::npos) return std::nullopt;
  if (host[sep] == '.') {
    in_addr v4;
    if (inet_pton(AF_INET, std::string(host).c_str(), &v4) != 1) return std::nullopt;
    return from_in(v4, 0);
  }
  std::string_view zone;
  if (auto pct = host.rfind('%'); pct != std::string_view::npos && pct > 0) {
    zone = host.substr(pct + 1);
    host = host.substr(0, pct);
  }
  in6_addr v6;
  if (inet_pton(AF_INET6, std::string(host).c_str(), &v6) != 1) return std::nullopt;
  return from_in6(v6, zone_index(zone), 0);
}

// A getaddrinfo failure as Go's DNSError. EAI_AGAIN ("try again") is the resolver's time-out.
error dns_error(int gai, int saved_errno, std::string_view name) {
  std::string msg = "server misbehaving";
  bool not_found = false, timeout = false;
  switch (gai) {
    case EAI_NONAME:
    case EAI_NODATA:
    case EAI_ADDRFAMILY:
      msg = "no such host";
      not_found = true;
      break;
    case EAI_AGAIN:
      msg = "temporary failure in name resolution";
      timeout = true;
      break;
    case EAI_SYSTEM:
      // Go's cgo resolver reports the errno (EMFILE where errno was not set).
      msg = os::Errno(saved_errno != 0 ? saved_errno : EMFILE).message();
      break;
    default:
      break;
  }
  return errors::make_as<DNSError>(std::move(msg), std::string(name), not_found, timeout);
}

// Every address of a host name (port 0), unique, in getaddrinfo's order. socktype keeps
// getaddrinfo from listing each address once per socket type.
Result<std::vector<SockAddr>> lookup_ip(std::string_view host, int socktype) {
  if (host.empty() || host.find('\0') != std::string_view::npos) {
    return {{}, errors::make_as<DNSError>("no such host", std::string(host), true, false)};
  }
  std::string node(host);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = socktype;
  addrinfo* res = nullptr;
  int saved_errno = 0;
  int rc = gocxx::blocking([&] {
    int r = getaddrinfo(node.c_str(), nullptr, &hints, &res);
    saved_errno = errno;
    return r;
  });
  if (rc != 0) return {{}, dns_error(rc, saved_errno, host)};
  std::vector<SockAddr> out;
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    std::optional<SockAddr> a;
    if (ai->ai_family == AF_INET) {
      a = from_in(reinterpret_cast<const sockaddr_in*>(ai->ai_addr)->sin_addr, 0);
    } else if (ai->ai_family == AF_INET6) {
      auto* sin6 = reinterpret_cast<const sockaddr_in6*>(ai->ai_addr);
      a = from_in6(sin6->sin6_addr, sin6->sin6_scope_id, 0);
    }
    if (a && std::find(out.begin(), out.end(), *a) == out.end()) out.push_back(*a);
  }
  freeaddrinfo(res);
  if (out.empty()) {
    return {{}, errors::make_as<DNSError>("no such host", std::string(host), true, false)};
  }
  return {std::move(out), nullptr};
}

// Go's parsePort: a decimal number with an optional sign, clamped so that an overflow stays
// out of range (and, as Go's does, it stops reading at the overflow); "" is 0. nullopt: not a
// number, so a service name to look up.
std::optional<long> parse_port(std::string_view s) {
  if (s.empty()) return 0;
  bool neg = s[0] == '-';
  if (s[0] == '+' || s[0] == '-') s.remove_prefix(1);
  constexpr long cutoff = 1L << 30;
  long n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    if (n >= cutoff) break;
    n = n * 10 + (c - '0');
  }
  return neg ? -n : n;
}

// Go's built-in services (net/lookup.go), for systems without /etc/services.
int builtin_service(std::string_view proto, std::string_view name) {
  struct Service {
    std::string_view proto, name;
    int port;
  };
  static constexpr Service kServices[] = {
      {"udp", "domain", 53}, {"tcp", "ftp", 21},     {"tcp", "ftps", 990},  {"tcp", "gopher", 70},
      {"tcp", "http", 80},   {"tcp", "https", 443},  {"tcp", "imap2", 143}, {"tcp", "imap3", 220},
      {"tcp", "imaps", 993}, {"tcp", "pop3", 110},   {"tcp", "pop3s", 995}, {"tcp", "smtp", 25},
      {"tcp", "ssh", 22},    {"tcp", "telnet", 23},
  };
  for (const auto& s : kServices) {
    if (s.proto == proto && s.name == name) return s.port;
  }
  return -1;
}

// Go's LookupPort for a service name ("http"): /etc/services, then Go's built-in table. A miss
// is Go's (pure Go resolver, Linux's default) AddrError "address tcp/foo: unknown port".
Result<int> lookup_service(const detail::Network& net, std::string_view service) {
  const char* proto = net.stream() ? "tcp" : "udp";
  std::string name(service);
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  int port = -1;
  if (name.find('\0') == std::string::npos) {
    port = gocxx::blocking([&] {  // reads /etc/services (or asks NSS)
      servent ent{};
      servent* found = nullptr;
      char buf[4096];
      getservbyname_r(name.c_str(), proto, &ent, buf, sizeof buf, &found);
      return found != nullptr ? int{ntohs(static_cast<std::uint16_t>(found->s_port))} : -1;
    });
    if (port < 0) port = builtin_service(proto, name);
  }
  if (port < 0) {
    return {0, errors::make_as<AddrError>("unknown port", net.base + "/" + std::string(service))};
  }
  return {port, nullptr};
}

// Whether the wildcard listen address of "tcp"/"udp" can be the dual-stack [::] (IPv6 sockets
// exist and accept IPv4 too). Probed once, as Go's ipStackCapabilities does.
bool dual_stack() {
  static const bool ok = [] {
    int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    int off = 0;
    bool v4mapped = ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off) == 0;
    ::close(fd);
    return v4mapped;
  }();
  return ok;
}

// The address for an empty host: to listen, every address (dual-stack [::] for "tcp"/"udp"
// where available); to dial, the local system, as Go's Dial(":80") reaches it (the loopback
// address of the network's family).
SockAddr empty_host(int family, bool passive) {
  if (passive) {
    if (family == AF_INET6 || (family == AF_UNSPEC && dual_stack())) {
      return from_in6(in6addr_any, 0, 0);
    }
    return from_in(in_addr{htonl(INADDR_ANY)}, 0);
  }
  if (family == AF_INET6) return from_in6(in6addr_loopback, 0, 0);
  return from_in(in_addr{htonl(INADDR_LOOPBACK)}, 0);
}

bool family_ok(int family, const SockAddr& a) {
  return family == AF_UNSPEC || family == a.ss.ss_family;
}

error missing_address() {
  // Go's errMissingAddress ("dial tcp: missing address" once wrapped in the OpError).
  static const error err = errors::make("missing address");
  return err;
}

Result<std::vector<Addr>> resolve_unix(const detail::Network& net, std::string_view path,
                                       bool passive) {
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  if (path.empty()) {
    // Go's Listen("unix", "") binds a bare sockaddr_un, which Linux autobinds to a fresh
    // abstract name (read it back with getsockname). Dialing needs an address (handled above).
    auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path));
    if (passive) return {{Addr(net.base, reinterpret_cast<const sockaddr*>(&un), len)}, nullptr};
    return {{}, missing_address()};
  }
  // A leading '@' names Linux's abstract namespace: sun_path starts with NUL and the name is
  // not NUL-terminated, so it may fill sun_path; a file path needs room for its NUL (as Go's
  // syscall.SockaddrUnix checks).
  const bool abstract = path[0] == '@';
  const std::size_t max = sizeof un.sun_path - (abstract ? 0 : 1);
  if (path.size() > max) {
    return {{}, errors::make_as<AddrError>(
                    "Unix socket path longer than " + std::to_string(max) + " bytes",
                    std::string(path))};
  }
  std::memcpy(un.sun_path, path.data(), path.size());
  if (abstract) un.sun_path[0] = '\0';
  auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() +
                                    (abstract ? 0 : 1));
  return {{Addr(net.base, reinterpret_cast<const sockaddr*>(&un), len)}, nullptr};
}

}  // namespace

Addr::Addr(std::string_view network, const sockaddr* sa, socklen_t len) {
  if (sa == nullptr || len == 0) return;  // nil
  network_ = std::string(network);
  len_ = std::min<socklen_t>(len, sizeof storage_);
  std::memcpy(&storage_, sa, len_);
}

std::string Addr::ip() const {
  if (len_ == 0) return "";
  switch (storage_.ss_family) {
    case AF_INET:
      return format_ipv4(reinterpret_cast<const unsigned char*>(
          &reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr));
    case AF_INET6:
      return format_ipv6(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr);
    default:
      return "";
  }
}

int Addr::port() const {
  if (len_ == 0) return 0;
  switch (storage_.ss_family) {
    case AF_INET:
      return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
    case AF_INET6:
      return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
    default:
      return 0;
  }
}

std::string Addr::string() const {
  if (len_ == 0) return "";
  switch (storage_.ss_family) {
    case AF_INET:
      return join_host_port(ip(), std::to_string(port()));
    case AF_INET6: {
      std::string host = ip();
      auto scope = reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_scope_id;
      if (scope != 0) host += "%" + zone_name(scope);
      return join_host_port(host, std::to_string(port()));
    }
    case AF_UNIX: {
      // Go's reading of a sockaddr_un: up to the first NUL, where a leading NUL (the abstract
      // namespace) is shown as '@'.
      constexpr std::size_t off = offsetof(sockaddr_un, sun_path);
      const auto* un = reinterpret_cast<const sockaddr_un*>(&storage_);
      std::size_t n = len_ > off ? std::min<std::size_t>(len_ - off, sizeof un->sun_path) : 0;
      std::string path(un->sun_path, n);
      if (!path.empty() && path[0] == '\0') path[0] = '@';
      return path.substr(0, path.find('\0'));
    }
    default:
      return "";
  }
}

// Go 1.19's net.SplitHostPort, check for check.
HostPort split_host_port(std::string_view hostport) {
  auto fail = [&](const char* why) {
    return HostPort{"", "", errors::make_as<AddrError>(why, std::string(hostport))};
  };
  constexpr const char* kMissingPort = "missing port in address";
  constexpr const char* kTooManyColons = "too many colons in address";
  constexpr auto npos = std::string_view::npos;

  // The port starts after the last colon.
  auto i = hostport.rfind(':');
  if (i == npos) return fail(kMissingPort);

  std::string_view host;
  std::size_t j = 0, k = 0;  // where a '[' resp. ']' may no longer appear
  if (hostport[0] == '[') {
    // Expect the first ']' just before the last ':'.
    auto end = hostport.find(']');
    if (end == npos) return fail("missing ']' in address");
    if (end + 1 == hostport.size()) return fail(kMissingPort);  // no ':' after the ']'
    if (end + 1 != i) {
      // Either ']' isn't followed by a colon, or by one that is not the last.
      return fail(hostport[end + 1] == ':' ? kTooManyColons : kMissingPort);
    }
    host = hostport.substr(1, end - 1);
    j = 1;
    k = end + 1;
  } else {
    host = hostport.substr(0, i);
    if (host.find(':') != npos) return fail(kTooManyColons);
  }
  if (hostport.find('[', j) != npos) return fail("unexpected '[' in address");
  if (hostport.find(']', k) != npos) return fail("unexpected ']' in address");
  return HostPort{std::string(host), std::string(hostport.substr(i + 1)), nullptr};
}

std::string join_host_port(std::string_view host, std::string_view port) {
  // A host with a colon is taken to be an IPv6 literal.
  if (host.find(':') != std::string_view::npos) {
    return "[" + std::string(host) + "]:" + std::string(port);
  }
  return std::string(host) + ":" + std::string(port);
}

Result<std::vector<std::string>> lookup_host(std::string_view host) {
  // Go returns an IP literal as it was written, without asking the resolver.
  if (!host.empty() && parse_ip_literal(host)) return {{std::string(host)}, nullptr};
  auto [addrs, err] = lookup_ip(host, SOCK_STREAM);
  if (err) return {{}, err};
  std::vector<std::string> out;
  for (const auto& a : addrs) {
    std::string s = Addr("ip", a.sa(), a.len).ip();
    if (a.ss.ss_family == AF_INET6) {
      auto scope = reinterpret_cast<const sockaddr_in6*>(&a.ss)->sin6_scope_id;
      if (scope != 0) s += "%" + zone_name(scope);
    }
    if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(std::move(s));
  }
  return {std::move(out), nullptr};
}

namespace detail {

bool Network::stream() const { return socktype == SOCK_STREAM; }

Result<Network> parse_network(std::string_view name) {
  struct Known {
    std::string_view name, base;
    int family, socktype;
  };
  static constexpr Known kNetworks[] = {
      {"tcp", "tcp", AF_UNSPEC, SOCK_STREAM},   {"tcp4", "tcp", AF_INET, SOCK_STREAM},
      {"tcp6", "tcp", AF_INET6, SOCK_STREAM},   {"udp", "udp", AF_UNSPEC, SOCK_DGRAM},
      {"udp4", "udp", AF_INET, SOCK_DGRAM},     {"udp6", "udp", AF_INET6, SOCK_DGRAM},
      {"unix", "unix", AF_UNIX, SOCK_STREAM},   {"unixgram", "unixgram", AF_UNIX, SOCK_DGRAM},
  };
  for (const auto& n : kNetworks) {
    if (n.name == name) {
      return {Network{std::string(n.name), std::string(n.base), n.family, n.socktype}, nullptr};
    }
  }
  return {{}, errors::make_as<UnknownNetworkError>(std::string(name))};
}

Result<std::vector<Addr>> resolve(const Network& net, std::string_view address, bool passive) {
  // Go's resolveAddrList: a dial needs an address; listening on "" means every address (or,
  // for Unix, an autobound name) and port 0.
  if (address.empty() && !passive) return {{}, missing_address()};
  if (net.family == AF_UNIX) return resolve_unix(net, address, passive);

  auto [host, service, err] = address.empty() ? HostPort{} : split_host_port(address);
  if (err) return {{}, err};

  int port = 0;
  if (auto n = parse_port(service)) {
    if (*n < 0 || *n > 65535) {
      // Go names the port, not the whole address: "address -1: invalid port".
      return {{}, errors::make_as<AddrError>("invalid port", service)};
    }
    port = static_cast<int>(*n);
  } else {
    auto [p, perr] = lookup_service(net, service);
    if (perr) return {{}, perr};
    port = p;
  }

  std::vector<SockAddr> addrs;
  if (host.empty()) {
    addrs.push_back(empty_host(net.family, passive));
  } else if (auto lit = parse_ip_literal(host)) {
    addrs.push_back(*lit);
  } else {
    auto [found, lerr] = lookup_ip(host, net.socktype);
    if (lerr) return {{}, lerr};
    addrs = std::move(found);
    // IPv4 first where a name has both (a stable partition keeps the resolver's order within
    // each family). Go's Listen takes the first IPv4 address too, and its Dial without Happy
    // Eyeballs racing (which gocxx does not do) tries the addresses in turn: IPv4 first means
    // "localhost" reaches a server listening on 127.0.0.1, the common case, without first
    // waiting for ::1 to refuse.
    if (net.family == AF_UNSPEC) {
      std::stable_partition(addrs.begin(), addrs.end(),
                            [](const SockAddr& a) { return a.ss.ss_family == AF_INET; });
    }
  }

  std::vector<Addr> out;
  for (auto& a : addrs) {
    if (!family_ok(net.family, a)) continue;
    set_port(a, port);
    out.emplace_back(net.base, a.sa(), a.len);
  }
  if (out.empty()) {
    // A literal or a name with no address of the family "tcp4"/"tcp6" asks for.
    return {{}, errors::make_as<AddrError>("no suitable address found", host)};
  }
  return {std::move(out), nullptr};
}

}  // namespace detail
}  // namespace gocxx::net

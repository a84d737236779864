// The fault-injecting TCP proxy in front of the target: every connection accepted on its
// listener is forwarded to the upstream address, bytes pumped both ways by two goroutines.
// The faults (gocxx::net::Faults, Toxiproxy's "toxics") are set on the listener, so they apply
// to the client side of each proxied connection: the load sees them, the target sees an
// ordinary client. Half closes are forwarded (EOF one way closes that way only); an error
// either way (a reset, injected or not) closes both connections.
//
//   auto proxy = Proxy::start("127.0.0.1:0", "127.0.0.1:8080", net::Faults::parse("latency=20ms"));
//   http::get("http://" + proxy->addr() + "/work");
//   proxy->close();                      // also closes the connections still open
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>

#include <gocxx/net.hpp>
#include <gocxx/sync.hpp>

namespace gocxx::pressure {

struct ProxyStats {
  std::uint64_t accepted = 0;       // client connections
  std::uint64_t dial_failures = 0;  // upstream connections that failed (the client is closed)
  std::uint64_t bytes_up = 0;       // client -> target
  std::uint64_t bytes_down = 0;     // target -> client
  std::uint64_t broken = 0;         // connections ended by an error rather than EOF
  int open = 0;
};

class Proxy {
 public:
  // Listens on listen_addr with `faults` (none if it injects nothing) and serves in a
  // goroutine. Throws std::runtime_error naming the address if it cannot listen.
  static std::unique_ptr<Proxy> start(const std::string& listen_addr, std::string upstream,
                                      const net::Faults& faults);
  ~Proxy();
  Proxy(const Proxy&) = delete;
  Proxy& operator=(const Proxy&) = delete;

  std::string addr() const { return addr_; }
  ProxyStats stats() const;
  // Stops accepting, closes every proxied connection and waits for the goroutines to end.
  void close();

 private:
  struct Pair;
  Proxy(net::Listener ln, std::string upstream);
  void serve();
  void pump(std::shared_ptr<Pair> pair, bool up);

  net::Listener ln_;
  std::string addr_;
  std::string upstream_;
  gocxx::sync::WaitGroup running_;  // the accept loop and every pump
  mutable gocxx::sync::Mutex mu_;
  ProxyStats stats_;                       // guarded by mu_
  std::set<std::shared_ptr<Pair>> pairs_;  // guarded by mu_: the open connections
  bool closed_ = false;                    // guarded by mu_
};

}  // namespace gocxx::pressure

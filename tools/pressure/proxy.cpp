#include "proxy.hpp"

#include <array>
#include <mutex>
#include <stdexcept>

#include <gocxx/runtime.hpp>

namespace gocxx::pressure {

using namespace std::chrono_literals;

struct Proxy::Pair {
  net::Conn client;
  net::Conn upstream;
  int pumps_left = 2;   // guarded by Proxy::mu_
  bool broken = false;  // guarded by Proxy::mu_

  void close() {
    (void)client.close();
    (void)upstream.close();
  }
};

std::unique_ptr<Proxy> Proxy::start(const std::string& listen_addr, std::string upstream,
                                    const net::Faults& faults) {
  auto [ln, err] = net::listen("tcp", listen_addr);
  if (err) throw std::runtime_error("proxy: " + err.message());
  ln.set_faults(faults);  // also Faults{}: none, whatever the process-wide default
  std::unique_ptr<Proxy> p(new Proxy(std::move(ln), std::move(upstream)));
  p->running_.add(1);
  gocxx::go([p = p.get()] {
    p->serve();
    p->running_.done();
  });
  return p;
}

Proxy::Proxy(net::Listener ln, std::string upstream)
    : ln_(std::move(ln)), addr_(ln_.addr().string()), upstream_(std::move(upstream)) {}

Proxy::~Proxy() { close(); }

ProxyStats Proxy::stats() const {
  std::lock_guard lk(mu_);
  return stats_;
}

void Proxy::close() {
  (void)ln_.close();
  {
    std::lock_guard lk(mu_);
    closed_ = true;
    for (const auto& pair : pairs_) pair->close();
  }
  running_.wait();
}

void Proxy::serve() {
  for (;;) {
    auto [client, err] = ln_.accept();
    if (errors::is(err, net::err_closed)) return;
    if (err) continue;  // a per-connection failure (EMFILE, an injected accept fault)
    {
      std::lock_guard lk(mu_);
      ++stats_.accepted;
    }
    running_.add(1);
    gocxx::go([this, client]() mutable {
      auto [upstream, derr] = net::dial_timeout("tcp", upstream_, 5s);
      auto pair = std::make_shared<Pair>(Pair{client, upstream});
      {
        std::lock_guard lk(mu_);
        if (derr) ++stats_.dial_failures;
        if (derr || closed_) {
          pair->close();
          running_.done();
          return;
        }
        pairs_.insert(pair);
        ++stats_.open;
      }
      running_.add(1);
      gocxx::go([this, pair] {
        pump(pair, true);
        running_.done();
      });
      pump(pair, false);
      running_.done();
    });
  }
}

void Proxy::pump(std::shared_ptr<Pair> pair, bool up) {
  net::Conn& from = up ? pair->client : pair->upstream;
  net::Conn& to = up ? pair->upstream : pair->client;
  std::array<char, 32 << 10> buf;
  bool broken = false;
  for (;;) {
    auto [n, err] = from.read(buf);
    if (n > 0) {
      auto [written, werr] = to.write(std::string_view(buf.data(), n));
      std::lock_guard lk(mu_);
      (up ? stats_.bytes_up : stats_.bytes_down) += written;
      if (werr) {
        broken = true;
        break;
      }
    }
    if (err == io::eof) {
      (void)to.close_write();  // forward the half close
      break;
    }
    if (err) {
      broken = true;
      break;
    }
  }
  std::lock_guard lk(mu_);
  if (broken && !pair->broken && !closed_) {
    pair->broken = true;
    ++stats_.broken;
  }
  if (broken) pair->close();  // wakes the other direction
  if (--pair->pumps_left == 0) {
    pair->close();
    pairs_.erase(pair);
    --stats_.open;
  }
}

}  // namespace gocxx::pressure

// A real Prometheus (Debian's `prometheus`, started here on loopback with a temporary config
// and data directory) scrapes examples/service every second with the shipped alert rules
// loaded. The test checks that what Prometheus stored matches what the service reports, and
// that the service's deliberately leaking endpoint makes GocxxGoroutineGrowth go pending (or
// firing). Everything talks over gocxx::http.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <gocxx/gocxx.hpp>
#include <gocxx/http.hpp>

#include "test_util.hpp"

extern char** environ;

namespace {

namespace http = gocxx::http;
namespace net = gocxx::net;
using namespace std::chrono_literals;

// A child process, killed and reaped when the object goes.
class Child {
 public:
  explicit Child(std::vector<std::string> argv) {
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    if (posix_spawn(&pid_, args[0], nullptr, nullptr, args.data(), environ) != 0) pid_ = -1;
  }
  ~Child() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    int status;
    waitpid(pid_, &status, 0);
  }
  bool started() const { return pid_ > 0; }

 private:
  pid_t pid_ = -1;
};

std::string free_loopback_port() {
  auto [ln, err] = net::listen("tcp", "127.0.0.1:0");
  if (err) return "";
  std::string addr = ln.addr().string();
  (void)ln.close();
  return addr;
}

// Requests to the service go over one kept-alive connection, so that the goroutines and sockets
// it reports are the same whether Prometheus or the test asks (one idle connection each).
std::optional<std::string> get_body(http::Client& client, const std::string& url) {
  auto [resp, err] = client.get(url);
  if (err) return std::nullopt;
  auto [body, berr] = resp.body.read_all();
  if (berr || resp.status_code != 200) return std::nullopt;
  return body;
}

// Polls until f() returns a value, at most `limit`.
template <class F>
auto poll(F f, gocxx::time::Duration limit) -> decltype(f()) {
  auto deadline = gocxx::time::now() + limit;
  for (;;) {
    if (auto v = f()) return v;
    if (gocxx::time::now() > deadline) return std::nullopt;
    gocxx::time::sleep(250ms);
  }
}

// The number in an instant query's first result: ..."value":[<time>,"<number>"]...
std::optional<double> query_value(http::Client& client, const std::string& prom, const std::string& query) {
  auto body = get_body(client, "http://" + prom + "/api/v1/query?query=" + http::query_escape(query));
  if (!body) return std::nullopt;
  auto at = body->find("\"value\":[");
  if (at == std::string::npos) return std::nullopt;
  auto quote = body->find('"', body->find(',', at) + 1);
  if (quote == std::string::npos) return std::nullopt;
  return std::strtod(body->c_str() + quote + 1, nullptr);
}

// A metric's value in the service's own /metrics text.
std::optional<double> scraped_value(http::Client& client, const std::string& service, const std::string& name) {
  auto body = get_body(client, "http://" + service + "/metrics");
  if (!body) return std::nullopt;
  auto at = body->find("\n" + name + " ");
  if (at == std::string::npos) return std::nullopt;
  return std::strtod(body->c_str() + at + name.size() + 2, nullptr);
}

TEST(Prometheus, ScrapesTheServiceAndTheLeakAlertGoesPending) {
  const char* prometheus = "/usr/bin/prometheus";
  ASSERT_EQ(access(prometheus, X_OK), 0) << "Debian's prometheus package is missing (tools/deps.sh)";
  char dir[] = "/tmp/gocxx-prometheus-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  gocxx::test::run_with(2, [&] {
    http::Client to_service{.timeout = 5s};
    http::Client to_prometheus{.timeout = 5s};
    std::string service_addr = free_loopback_port();
    std::string prom_addr = free_loopback_port();
    Child service({GOCXX_SERVICE_BIN, service_addr});
    ASSERT_TRUE(service.started());
    ASSERT_TRUE(poll([&] { return get_body(to_service, "http://" + service_addr + "/hello/prometheus"); }, 30s))
        << "the service did not come up";

    std::string config = std::string(dir) + "/prometheus.yml";
    std::ofstream(config) << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                          << "rule_files:\n  - " << GOCXX_ALERT_RULES << "\n"
                          << "scrape_configs:\n  - job_name: service\n    static_configs:\n"
                          << "      - targets: ['" << service_addr << "']\n";
    Child prom({prometheus, "--config.file=" + config, "--storage.tsdb.path=" + std::string(dir) + "/data",
                "--web.listen-address=" + prom_addr, "--log.level=warn"});
    ASSERT_TRUE(prom.started());
    auto up = poll([&]() -> std::optional<std::string> {
      auto body = get_body(to_prometheus, "http://" + prom_addr + "/api/v1/targets");
      if (body && body->find("\"health\":\"up\"") != std::string::npos) return body;
      return std::nullopt;
    }, 90s);
    ASSERT_TRUE(up) << "Prometheus never scraped the service";

    // What Prometheus stored is what the service reports, once the service is quiet (the only
    // traffic is the scrapes and these queries, which do not change the two counts compared).
    auto agree = [&](const std::string& metric) {
      return poll([&]() -> std::optional<double> {
        auto stored = query_value(to_prometheus, prom_addr, metric);
        auto reported = scraped_value(to_service, service_addr, metric);
        if (stored && reported && *stored == *reported) return stored;
        return std::nullopt;
      }, 30s);
    };
    auto leak = [&](int n) {
      for (int i = 0; i < n; ++i) ASSERT_TRUE(get_body(to_service, "http://" + service_addr + "/leak"));
    };
    leak(10);
    auto goroutines = agree("go_goroutines");
    ASSERT_TRUE(goroutines) << "go_goroutines never matched between Prometheus and the service";
    EXPECT_GE(*goroutines, 10) << "the ten leaked goroutines";
    EXPECT_TRUE(agree("gocxx_net_sockets_opened_total"));
    EXPECT_TRUE(agree("gocxx_net_sockets_closed_total"));

    // The leak keeps growing: the goroutine-growth alert's expression turns true.
    auto alert = poll([&]() -> std::optional<std::string> {
      leak(20);
      auto body = get_body(to_prometheus, "http://" + prom_addr + "/api/v1/alerts");
      if (body && body->find("GocxxGoroutineGrowth") != std::string::npos &&
          (body->find("\"state\":\"pending\"") != std::string::npos ||
           body->find("\"state\":\"firing\"") != std::string::npos)) {
        return body;
      }
      return std::nullopt;
    }, 90s);
    EXPECT_TRUE(alert) << "GocxxGoroutineGrowth never went pending";
  });
  std::system((std::string("rm -rf ") + dir).c_str());
}

}  // namespace

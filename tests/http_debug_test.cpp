// gocxx::debug::register_handlers over HTTP: the pprof index, the goroutine profile in its three
// forms (and `go tool pprof` reading it from the live server), cmdline, trace, leaks, /metrics.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <gocxx/gocxx.hpp>
#include <gocxx/http.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "test_util.hpp"

namespace {

namespace http = gocxx::http;
namespace net = gocxx::net;
using gocxx::test::run_with;
using namespace std::chrono_literals;
using testing::HasSubstr;
using testing::StartsWith;

struct Fetched {
  int status = 0;
  std::string content_type;
  std::string body;
};

Fetched fetch(const std::string& url) {
  auto [resp, err] = http::get(url);
  EXPECT_FALSE(err) << err;
  if (err) return {};
  auto [body, berr] = resp.body.read_all();
  EXPECT_FALSE(berr) << berr;
  return {resp.status_code, resp.header.get("Content-Type"), body};
}

// Runs `command` on a thread of its own (gocxx::blocking) and returns its output and status.
std::pair<std::string, int> run_command(const std::string& command) {
  return gocxx::blocking([&] {
    std::string out;
    FILE* p = popen((command + " 2>&1").c_str(), "r");
    if (!p) return std::pair<std::string, int>{"popen failed", -1};
    char buf[4096];
    while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    int status = pclose(p);
    return std::pair<std::string, int>{out, status};
  });
}

template <class F>
void with_debug_server(F body) {
  run_with(2, [&] {
    http::ServeMux mux;
    gocxx::debug::register_handlers(mux);
    auto [ln, err] = net::listen("tcp", "127.0.0.1:0");
    ASSERT_FALSE(err) << err;
    std::string base = "http://" + ln.addr().string();
    http::Server srv;
    srv.handler = mux;
    gocxx::Chan<gocxx::error> done(1);
    gocxx::go([&, ln = ln]() mutable { done.send(srv.serve(std::move(ln))); });
    // A goroutine parked where the dumps can show it.
    gocxx::Chan<int> never;
    gocxx::go([never]() mutable { never.recv(); });
    body(base);
    never.close();
    (void)srv.close();
    EXPECT_EQ(*done.recv(), http::err_server_closed);
  });
}

TEST(HttpDebug, IndexAndGoroutineProfiles) {
  with_debug_server([](const std::string& base) {
    Fetched index = fetch(base + "/debug/pprof/");
    EXPECT_EQ(index.status, 200);
    EXPECT_EQ(index.content_type, "text/html; charset=utf-8");
    EXPECT_THAT(index.body, HasSubstr("<a href='goroutine?debug=1'>goroutine</a>"));
    EXPECT_THAT(index.body, HasSubstr("full goroutine stack dump"));

    Fetched text1 = fetch(base + "/debug/pprof/goroutine?debug=1");
    EXPECT_EQ(text1.content_type, "text/plain; charset=utf-8");
    EXPECT_THAT(text1.body, StartsWith("goroutine profile: total "));

    Fetched text2 = fetch(base + "/debug/pprof/goroutine?debug=2");
    EXPECT_THAT(text2.body, HasSubstr("[chan receive]:"));
    EXPECT_THAT(text2.body, HasSubstr("[IO wait]:")) << "the server's accept loop";

    Fetched proto = fetch(base + "/debug/pprof/goroutine");
    EXPECT_EQ(proto.content_type, "application/octet-stream");
    ASSERT_GE(proto.body.size(), 2u);
    EXPECT_EQ(static_cast<unsigned char>(proto.body[0]), 0x1f) << "gzip";
    EXPECT_EQ(static_cast<unsigned char>(proto.body[1]), 0x8b) << "gzip";

    Fetched cmdline = fetch(base + "/debug/pprof/cmdline");
    EXPECT_THAT(cmdline.body, HasSubstr("http_debug_test"));

    EXPECT_EQ(fetch(base + "/debug/pprof/nothing").status, 404);
  });
}

TEST(HttpDebug, GoToolPprofReadsTheLiveProfile) {
  if (run_command("command -v go").second != 0) {
    FAIL() << "go is not installed (tools/deps.sh installs golang-go)";
  }
  with_debug_server([](const std::string& base) {
    char dir[] = "/tmp/gocxx-pprof-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    auto [out, status] = run_command(std::string("PPROF_TMPDIR=") + dir + " HOME=" + dir +
                                     " go tool pprof -top " + base + "/debug/pprof/goroutine");
    EXPECT_EQ(status, 0) << out;
    EXPECT_THAT(out, HasSubstr("Type: goroutine")) << out;
    EXPECT_THAT(out, HasSubstr("flat%")) << out;
    run_command(std::string("rm -rf ") + dir);
  });
}

TEST(HttpDebug, TraceLeaksAndMetrics) {
  with_debug_server([](const std::string& base) {
    Fetched trace = fetch(base + "/debug/pprof/trace?seconds=1");
    EXPECT_EQ(trace.status, 200);
    EXPECT_EQ(trace.content_type, "application/json");
    EXPECT_THAT(trace.body, HasSubstr("\"traceEvents\""));
    EXPECT_EQ(fetch(base + "/debug/pprof/trace?seconds=0").status, 400);
    EXPECT_EQ(fetch(base + "/debug/pprof/trace?seconds=100000").status, 400);

    Fetched leaks = fetch(base + "/debug/gocxx/leaks");
    EXPECT_THAT(leaks.body, StartsWith("goroutines: "));
    EXPECT_THAT(leaks.body, HasSubstr("watchdog: "));

    Fetched metrics = fetch(base + "/metrics");
    EXPECT_EQ(metrics.content_type, "text/plain; version=0.0.4; charset=utf-8");
    EXPECT_THAT(metrics.body, HasSubstr("# TYPE go_goroutines gauge\n"));
    EXPECT_THAT(metrics.body, HasSubstr("gocxx_net_sockets_opened_total"));
    // The requests this test made, counted by the server itself.
    EXPECT_THAT(metrics.body, HasSubstr("gocxx_http_requests_total{code=\"200\",method=\"GET\"} "));
    EXPECT_THAT(metrics.body, HasSubstr("gocxx_http_requests_total{code=\"400\",method=\"GET\"} 2\n"));
    EXPECT_THAT(metrics.body, HasSubstr("gocxx_http_request_duration_seconds_bucket{method=\"GET\",le=\"+Inf\"} "));
  });
}

}  // namespace

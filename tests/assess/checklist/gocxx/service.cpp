// The checklist's gocxx fixture: a gocxx::http service with the debug endpoints, handlers bound
// by context::with_timeout, and JSON log lines (stderr) carrying the traceparent's trace id.
// Prints "listening on ADDR" on stdout once it serves.
#include <cstdio>
#include <iostream>
#include <string>

#include <gocxx/gocxx.hpp>
#include <gocxx/http.hpp>
#include <nlohmann/json.hpp>

namespace http = gocxx::http;
using namespace std::chrono_literals;

namespace {

constexpr auto kRequestTimeout = 3s;

// The trace id of a W3C traceparent header, 00-<32 hex>-<16 hex>-<2 hex>; "" if none.
std::string trace_id(const http::Request& r) {
  const std::string tp = r.header.get("Traceparent");
  return tp.size() == 55 && tp[2] == '-' && tp[35] == '-' ? tp.substr(3, 32) : "";
}

void log_json(const std::string& trace, const std::string& msg, const std::string& path) {
  const std::string line = nlohmann::json{{"level", "info"}, {"msg", msg}, {"path", path}, {"trace_id", trace}}.dump() + "\n";
  std::fwrite(line.data(), 1, line.size(), stderr);  // one write: lines never interleave
}

}  // namespace

int main() {
  return gocxx::run([] {
    http::ServeMux mux;
    gocxx::debug::register_handlers(mux);
    mux.handle_func("/", [](http::ResponseWriter& w, http::Request& r) {
      auto [ctx, cancel] = gocxx::context::with_timeout(r.context(), kRequestTimeout);
      log_json(trace_id(r), "request", r.url.path);
      (void)w.write("hello\n");
      cancel();
    });
    mux.handle_func("/slow", [](http::ResponseWriter& w, http::Request& r) {
      auto [ctx, cancel] = gocxx::context::with_timeout(r.context(), 3s);
      bool timed_out = false;
      gocxx::select(gocxx::recv_case(ctx.done(), [&] { timed_out = true; }),
                    gocxx::recv_case(gocxx::time::after(60s), [](auto) {}));
      log_json(trace_id(r), "slow", r.url.path);
      if (timed_out) http::error_reply(w, "slow: " + ctx.err().message(), http::status_service_unavailable);
      cancel();
    });
    auto [ln, err] = gocxx::net::listen("tcp", "127.0.0.1:0");
    if (err) {
      std::cerr << err << "\n";
      return;
    }
    std::cout << "listening on " << ln.addr().string() << std::endl;
    http::Server srv;
    srv.handler = mux;
    std::cerr << srv.serve(std::move(ln)) << "\n";
  });
}

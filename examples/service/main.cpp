// A small HTTP service with gocxx's debug endpoints on: /debug/pprof/..., /debug/gocxx/leaks and
// /metrics, next to two handlers of its own, one of which leaks a goroutine per request on
// purpose (so the leak tools and the goroutine-growth alert have something to find).
//
//   service [addr]            default 127.0.0.1:8080 (loopback: the debug endpoints are sensitive)
//   curl localhost:8080/hello/gopher
//   curl localhost:8080/leak                  # one goroutine blocked forever per call
//   curl 'localhost:8080/debug/pprof/goroutine?debug=1'
//   go tool pprof -top http://localhost:8080/debug/pprof/goroutine
//   curl localhost:8080/metrics
//
// SIGINT/SIGTERM shut it down gracefully (in-flight requests finish).
#include <csignal>
#include <cstdio>
#include <gocxx/gocxx.hpp>
#include <gocxx/http.hpp>
#include <gocxx/metrics.hpp>
#include <string>
#include <thread>

using namespace std::chrono_literals;
namespace http = gocxx::http;

int main(int argc, char** argv) {
  std::string addr = argc > 1 ? argv[1] : "127.0.0.1:8080";
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);  // every thread; one waits for them below

  gocxx::run([&] {
    auto& requests = gocxx::metrics::default_registry().make_counter_vec(
        "service_requests_total", "Requests handled, by handler.", {"handler"});
    http::ServeMux mux;
    mux.handle_func("GET /hello/{name}", [&](http::ResponseWriter& w, http::Request& r) {
      requests.with_label_values({"hello"}).inc();
      (void)w.write("hello " + r.path_value("name") + "\n");
    });
    // The seed's classic leak: a goroutine waits for a result nobody will ever send.
    mux.handle_func("GET /leak", [&](http::ResponseWriter& w, http::Request&) {
      requests.with_label_values({"leak"}).inc();
      gocxx::Chan<int> result;
      gocxx::go([result]() mutable { result.recv(); });
      (void)w.write("leaked one goroutine; now " + std::to_string(gocxx::num_goroutine()) + "\n");
    });
    gocxx::debug::register_handlers(mux);

    http::Server srv;
    srv.addr = addr;
    srv.handler = mux;
    srv.read_header_timeout = 5s;
    srv.idle_timeout = 60s;
    gocxx::Chan<gocxx::error> served(1);
    // NOLINTNEXTLINE(gocxx-go-capture-ref): joined at the end (served.recv() or the select)
    gocxx::go([&] { served.send(srv.listen_and_serve()); });
    std::printf("serving on http://%s (debug endpoints on)\n", addr.c_str());
    std::fflush(stdout);

    gocxx::Chan<int> stop(1);
    std::thread([stop, &stop_signals]() mutable {
      int sig = 0;
      sigwait(&stop_signals, &sig);
      stop.send(sig);
    }).detach();
    bool failed = false;
    gocxx::select(gocxx::recv_case(stop, [](auto) {}),
                  gocxx::recv_case(served, [&](auto err) {
                    std::fprintf(stderr, "service: %s\n", err->message().c_str());
                    failed = true;
                  }));
    auto [ctx, cancel] = gocxx::context::with_timeout(gocxx::context::background(), 5s);
    if (auto err = srv.shutdown(ctx)) std::fprintf(stderr, "service: shutdown: %s\n", err.message().c_str());
    if (!failed) (void)served.recv();  // listen_and_serve has returned: the goroutine is done
  });
}

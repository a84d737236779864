// The gocxx side of bench/compare_http: gocxx::http's hello world (the same program as
// bench/go/netbench/httpserver).
//
//   http_server [addr [parked]]        default 127.0.0.1:0, 0
//
// Prints "LISTEN <addr>" once listening; GET / answers "hello world\n". With `parked` > 0 it
// first parks that many goroutines on a channel and serves the debug endpoints
// (debug::register_handlers), for timing /debug/pprof/goroutine?debug=2 against Go's. Exits 0
// on SIGTERM (a plain thread waits for it).
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <gocxx/gocxx.hpp>
#include <gocxx/http.hpp>
#include <string>
#include <thread>
#include <unistd.h>

int main(int argc, char** argv) {
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  std::thread([stop] {
    int sig = 0;
    sigwait(&stop, &sig);
    _exit(0);
  }).detach();
  std::string addr = argc > 1 ? argv[1] : "127.0.0.1:0";
  long parked = argc > 2 ? std::strtol(argv[2], nullptr, 10) : 0;
  gocxx::run([&] {
    gocxx::Chan<int> never;
    for (long i = 0; i < parked; ++i) gocxx::go([never]() mutable { never.recv(); });
    auto [ln, err] = gocxx::net::listen("tcp", addr);
    if (err) {
      std::fprintf(stderr, "http_server: %s\n", err.message().c_str());
      std::exit(1);
    }
    std::printf("LISTEN %s\n", ln.addr().string().c_str());
    std::fflush(stdout);
    gocxx::http::ServeMux mux;
    mux.handle_func("/", [](gocxx::http::ResponseWriter& w, gocxx::http::Request&) {
      (void)w.write("hello world\n");
    });
    if (parked > 0) gocxx::debug::register_handlers(mux);
    (void)gocxx::http::serve(std::move(ln), mux);
  });
}

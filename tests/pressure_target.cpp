// A small gocxx HTTP service that leaks a goroutine per request, for gocxx-pressure's
// end-to-end test (pressure_e2e_test.cpp); the gocxx twin of tests/go/leaky/main.go.
//
//   pressure_target ADDR [--fixed] [--exit-after DURATION_MS]
//
// GET /work starts the work in a goroutine and answers without waiting for its result, which
// the goroutine then sends on an unbuffered channel nobody receives from: every request leaves
// one goroutine in "chan send", created by pressure_target::handle_work. --fixed gives the
// channel a buffer of one, so the send completes and the goroutine exits. --exit-after makes
// the process exit with status 1 after that many milliseconds (a target that dies mid-run).
// The debug endpoints (gocxx::debug::register_handlers) serve the counts, dumps and traces.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <gocxx/gocxx.hpp>
#include <gocxx/http.hpp>

namespace http = gocxx::http;

namespace pressure_target {

bool fixed = false;

int compute() { return 42; }

void handle_work(http::ResponseWriter& w, http::Request&) {
  gocxx::Chan<int> result(fixed ? 1 : 0);
  gocxx::go([result]() mutable { result.send(compute()); });
  (void)w.write("accepted\n");
}

}  // namespace pressure_target

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: pressure_target ADDR [--fixed] [--exit-after MS]\n");
    return 2;
  }
  std::string addr = argv[1];
  long exit_after_ms = 0;
  for (int i = 2; i < argc; ++i) {
    if (std::strcmp(argv[i], "--fixed") == 0) {
      pressure_target::fixed = true;
    } else if (std::strcmp(argv[i], "--exit-after") == 0 && i + 1 < argc) {
      exit_after_ms = std::strtol(argv[++i], nullptr, 10);
    } else {
      std::fprintf(stderr, "pressure_target: unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  return gocxx::run([&] {
    http::ServeMux mux;
    mux.handle_func("GET /work", pressure_target::handle_work);
    gocxx::debug::register_handlers(mux);
    if (exit_after_ms > 0) {
      gocxx::time::after_func(std::chrono::milliseconds(exit_after_ms), [] {
        std::fprintf(stderr, "pressure_target: exiting on purpose (--exit-after)\n");
        std::_Exit(1);
      });
    }
    http::Server srv{.addr = addr, .handler = mux};
    std::printf("pressure_target: serving on http://%s%s\n", addr.c_str(),
                pressure_target::fixed ? " (fixed)" : "");
    std::fflush(stdout);
    auto err = srv.listen_and_serve();
    std::fprintf(stderr, "pressure_target: %s\n", err.message().c_str());
    return 1;
  });
}

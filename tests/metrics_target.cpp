// The program tests/metrics/check.sh feeds to `promtool check metrics`: it prints, in the text
// exposition format, the default registry (the runtime's metrics) plus one metric of each kind
// a user registers (counter, gauge and histogram vecs with label values that need escaping, a
// gauge func), from a run with goroutines parked for several wait reasons and a socket open.
//
//   metrics_target            the exposition, on standard output
#include <gocxx/gocxx.hpp>
#include <gocxx/metrics.hpp>

#include <cstdio>
#include <cstdlib>
#include <iostream>

namespace metrics = gocxx::metrics;

int main() {
  return gocxx::run([] {
    auto& reg = metrics::default_registry();
    auto& requests = reg.make_counter_vec("metrics_target_requests_total",
                                          "Requests handled, by method and code.",
                                          {"method", "code"});
    requests.with_label_values({"GET", "200"}).add(41);
    requests.with({{"code", "500"}, {"method", "POST"}}).inc();
    auto& temperature = reg.make_gauge_vec(
        "metrics_target_temperature_celsius",
        "A gauge with a help text that has a backslash \\ and a\nnewline.", {"room"});
    temperature.with_label_values({"hall \"main\"\nback\\slash"}).set(-3.5);
    temperature.with_label_values({"lab"}).set(21.25);
    auto& latency = reg.make_histogram_vec("metrics_target_request_duration_seconds",
                                           "Request latency.", {"route"});
    for (double v : {0.001, 0.02, 0.2, 3.0, 42.0}) latency.with_label_values({"/hello"}).observe(v);
    reg.make_gauge_func("metrics_target_answer", "A value computed at scrape time.",
                        [] { return 42.0; });

    // Goroutines parked for a few reasons, and a socket open.
    gocxx::Chan<int> ch;
    gocxx::sync::WaitGroup wg;
    wg.add(1);
    for (int i = 0; i < 3; ++i) gocxx::go([ch]() mutable { (void)ch.recv(); });
    // NOLINTNEXTLINE(gocxx-go-capture-ref): joined by the num_goroutine() loop at the end
    for (int i = 0; i < 2; ++i) gocxx::go([&wg] { wg.wait(); });
    auto [ln, err] = gocxx::net::listen("tcp", "127.0.0.1:0");
    if (err) {
      std::fprintf(stderr, "metrics_target: listen: %s\n", err.message().c_str());
      return 1;
    }
    while (gocxx::num_goroutine() < 6) gocxx::yield();
    for (int i = 0; i < 100; ++i) gocxx::yield();

    metrics::write_text(std::cout);
    std::cout.flush();

    (void)ln.close();
    ch.close();
    wg.done();
    while (gocxx::num_goroutine() > 1) gocxx::yield();
    return 0;
  });
}

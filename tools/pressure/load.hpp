// The open-loop load generator: request i is due at start + i/rate, whatever happened to the
// requests before it, and its latency is measured from that due time, not from when it was
// actually sent. A closed-loop generator (send, wait, send) sends less while the target stalls
// and so never measures the stall ("coordinated omission"); here a stall of S seconds shows
// as latencies up to S for every request due during it.
//
//   LoadGenerator load({.url = "http://127.0.0.1:9000/work", .rate = 500,
//                       .duration = 60s, .timeout = 10s});
//   load.run(ctx);                    // returns when every request has finished or ctx is done
//   LoadStats s = load.stats();       // s.latency.percentile(99), s.errors["HTTP 503"], ...
//
// Each request is one goroutine on the gocxx::http client (keep-alive connections pooled);
// latency is up to the last byte of the response body. A request that would exceed
// max_in_flight is not sent and counts as the error "in-flight limit".
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <gocxx/context.hpp>
#include <gocxx/http.hpp>
#include <gocxx/sync.hpp>

#include "cli.hpp"
#include "histogram.hpp"

namespace gocxx::pressure {

struct LoadOptions {
  std::string url;
  double rate = 100;  // requests per second
  Duration duration = std::chrono::seconds(10);
  Duration timeout = std::chrono::seconds(10);
  int max_in_flight = 10000;
  std::size_t max_idle_conns = 64;
};

struct LoadStats {
  std::uint64_t scheduled = 0;  // due times reached (each is sent, or counted as an error)
  std::uint64_t completed = 0;  // finished, successfully or not
  std::uint64_t ok = 0;         // 2xx/3xx responses read to the end
  std::uint64_t failed = 0;     // every other outcome, by kind in `errors`
  int in_flight = 0;
  int max_in_flight = 0;
  std::map<std::string, std::uint64_t> errors;  // "HTTP 503", "connection reset by peer", ...
  Histogram latency;           // nanoseconds from due time to the end, all outcomes
  Histogram ok_latency;        // the same for ok responses only
  double elapsed_seconds = 0;  // from the first due time to the last completion
};

// The error's kind for the report: the innermost cause's text ("connection refused", "EOF",
// "i/o timeout"), without the URL and addresses the outer layers add.
std::string error_kind(const error& err);

// The due times of a run: ceil(rate * duration) of them, at start + i/rate.
std::uint64_t due_count(double rate, Duration duration);

class LoadGenerator {
 public:
  explicit LoadGenerator(LoadOptions options);
  // Sends until the duration ends or ctx is done, then waits for the requests in flight (a
  // cancelled ctx also cancels them). Call once, from a goroutine.
  void run(const context::Context& ctx);
  LoadStats stats() const;  // a consistent snapshot, at any time

 private:
  void send_one(const context::Context& ctx, time::TimePoint due);
  void finish(time::TimePoint due, const std::string& error);

  LoadOptions o_;
  http::Client client_;
  mutable gocxx::sync::Mutex mu_;
  LoadStats stats_;  // guarded by mu_
  time::TimePoint start_{};
};

}  // namespace gocxx::pressure

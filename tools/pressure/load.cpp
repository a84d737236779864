#include "load.hpp"

#include <cmath>
#include <mutex>

#include <gocxx/chan.hpp>
#include <gocxx/runtime.hpp>

namespace gocxx::pressure {

std::string error_kind(const error& err) {
  error inner = err;
  while (error next = errors::unwrap(inner)) inner = next;
  return inner.message();
}

std::uint64_t due_count(double rate, Duration duration) {
  // Due times i/rate < duration: the whole number of them, rounded up (1.5 slots -> 2). The
  // product is rounded first so that 100/s for 3s is 300, not 301 from 300.0000000001.
  double slots = std::round(rate * std::chrono::duration<double>(duration).count() * 1e6) / 1e6;
  return static_cast<std::uint64_t>(std::ceil(slots));
}

LoadGenerator::LoadGenerator(LoadOptions options) : o_(std::move(options)) {
  client_.timeout = o_.timeout;
  client_.max_idle_conns_per_host = o_.max_idle_conns;
  // The transport is made on first use, which is not safe to race: make it before the
  // request goroutines share the client.
  client_.close_idle_connections();
}

void LoadGenerator::run(const context::Context& ctx) {
  std::uint64_t n = due_count(o_.rate, o_.duration);
  gocxx::sync::WaitGroup wg;
  {
    std::lock_guard lk(mu_);
    start_ = time::now();
  }
  for (std::uint64_t i = 0; i < n; ++i) {
    auto due = start_ + Duration(static_cast<std::int64_t>(static_cast<double>(i) * 1e9 / o_.rate));
    if (auto wait = due - time::now(); wait > Duration::zero()) {
      gocxx::select(gocxx::recv_case(time::after(wait), [] {}),
                    gocxx::recv_case(ctx.done(), [] {}));
    }
    if (ctx.err()) break;
    {
      std::lock_guard lk(mu_);
      ++stats_.scheduled;
      if (stats_.in_flight >= o_.max_in_flight) {
        ++stats_.completed;
        ++stats_.failed;
        ++stats_.errors["in-flight limit"];
        continue;
      }
      stats_.max_in_flight = std::max(stats_.max_in_flight, ++stats_.in_flight);
    }
    wg.add(1);
    gocxx::go([this, ctx, due, &wg] {
      send_one(ctx, due);
      wg.done();
    });
  }
  wg.wait();
  client_.close_idle_connections();
}

void LoadGenerator::send_one(const context::Context& ctx, time::TimePoint due) {
  auto [req, err] = http::new_request_with_context(ctx, "GET", o_.url);
  if (err) return finish(due, error_kind(err));
  auto [resp, serr] = client_.send(req);
  if (serr) return finish(due, error_kind(serr));
  auto [body, berr] = resp.body.read_all();  // latency includes the whole body
  if (berr) return finish(due, error_kind(berr));
  if (resp.status_code >= 400) return finish(due, "HTTP " + resp.status);
  finish(due, "");
}

void LoadGenerator::finish(time::TimePoint due, const std::string& error) {
  auto end = time::now();
  auto ns = static_cast<std::uint64_t>(std::max<std::int64_t>((end - due).count(), 0));
  std::lock_guard lk(mu_);
  --stats_.in_flight;
  ++stats_.completed;
  stats_.latency.record(ns);
  if (error.empty()) {
    ++stats_.ok;
    stats_.ok_latency.record(ns);
  } else {
    ++stats_.failed;
    ++stats_.errors[error];
  }
  stats_.elapsed_seconds = std::chrono::duration<double>(end - start_).count();
}

LoadStats LoadGenerator::stats() const {
  std::lock_guard lk(mu_);
  return stats_;
}

}  // namespace gocxx::pressure

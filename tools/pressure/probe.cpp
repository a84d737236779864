#include "probe.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>

namespace gocxx::pressure {

std::optional<int> parse_pprof_total(std::string_view body) {
  static constexpr std::string_view kPrefix = "goroutine profile: total ";
  if (!body.starts_with(kPrefix)) return std::nullopt;
  body.remove_prefix(kPrefix.size());
  std::size_t n = 0;
  long v = 0;
  while (n < body.size() && n < 10 && body[n] >= '0' && body[n] <= '9')
    v = v * 10 + (body[n++] - '0');
  if (n == 0 || (n < body.size() && body[n] != '\n' && body[n] != '\r')) return std::nullopt;
  return static_cast<int>(v);
}

std::optional<double> parse_metric(std::string_view body, std::string_view name) {
  std::size_t at = 0;
  while (at < body.size()) {
    std::size_t end = body.find('\n', at);
    std::string_view line =
        body.substr(at, end == std::string_view::npos ? std::string_view::npos : end - at);
    at = end == std::string_view::npos ? body.size() : end + 1;
    if (!line.starts_with(name) || line.size() <= name.size() || line[name.size()] != ' ') continue;
    std::string value(line.substr(name.size() + 1));
    if (std::size_t sp = value.find(' '); sp != std::string::npos) value.resize(sp);  // a timestamp
    char* stop = nullptr;
    errno = 0;
    double v = std::strtod(value.c_str(), &stop);
    if (errno == 0 && *stop == '\0' && std::isfinite(v)) return v;
  }
  return std::nullopt;
}

Probe::Probe(std::string base, CountSource source, Duration timeout)
    : source_(source), timeout_(timeout) {
  auto [u, err] = http::parse_url(base);
  base_ = err ? base : u.scheme + "://" + u.host;
  // The client's transport is made on first use, which is not safe to race: make it now,
  // before goroutines share the probe.
  client_.close_idle_connections();
}

std::string Probe::source_name() const {
  switch (source_) {
    case CountSource::pprof:
      return "pprof";
    case CountSource::metrics:
      return "metrics";
    case CountSource::automatic:
      return "";
  }
  return "";
}

Result<Probe::Download> Probe::download(std::string_view path_and_query, Duration timeout) {
  auto [ctx, cancel] = context::with_timeout(context::background(), timeout);
  auto [req, err] = http::new_request_with_context(ctx, "GET", base_ + std::string(path_and_query));
  if (err) return {{}, err};
  auto [resp, rerr] = client_.send(req);
  if (rerr) return {{}, rerr};
  auto [body, berr] = resp.body.read_all();
  if (berr) return {{}, errors::wrap(berr, "reading " + base_ + std::string(path_and_query))};
  if (resp.status_code != http::status_ok) {
    std::string first_line = body.substr(0, body.find('\n'));
    return {{},
            errors::make("GET " + base_ + std::string(path_and_query) + ": " + resp.status +
                         (first_line.empty() ? "" : " (" + first_line + ")"))};
  }
  return {{std::move(body), resp.header.get("Content-Type")}, nullptr};
}

Result<std::string> Probe::get(std::string_view path_and_query, Duration timeout) {
  auto [d, err] = download(path_and_query, timeout);
  return {std::move(d.body), err};
}

Result<int> Probe::from_pprof() {
  auto [body, err] = get("/debug/pprof/goroutine?debug=1", timeout_);
  if (err) return {0, err};
  auto n = parse_pprof_total(body);
  if (!n)
    return {0,
            errors::make(base_ +
                         "/debug/pprof/goroutine?debug=1: no \"goroutine profile: total N\" line")};
  return {*n, nullptr};
}

Result<int> Probe::from_metrics() {
  auto [body, err] = get("/metrics", timeout_);
  if (err) return {0, err};
  auto v = parse_metric(body, "go_goroutines");
  if (!v) return {0, errors::make(base_ + "/metrics: no go_goroutines sample")};
  return {static_cast<int>(*v), nullptr};
}

Result<int> Probe::goroutines() {
  switch (source_) {
    case CountSource::pprof:
      return from_pprof();
    case CountSource::metrics:
      return from_metrics();
    case CountSource::automatic:
      break;
  }
  auto [n, err] = from_pprof();
  if (!err) {
    source_ = CountSource::pprof;
    return {n, nullptr};
  }
  auto [m, merr] = from_metrics();
  if (!merr) {
    source_ = CountSource::metrics;
    return {m, nullptr};
  }
  return {0, err};  // pprof's error: the endpoint users are told about first
}

}  // namespace gocxx::pressure

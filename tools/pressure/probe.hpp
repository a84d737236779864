// What gocxx-pressure reads from the target's debug endpoints, which gocxx services
// (gocxx::debug::register_handlers) and Go services (net/http/pprof, client_golang) both serve:
//   /debug/pprof/goroutine?debug=1   first line "goroutine profile: total N"
//   /metrics                         the gauge "go_goroutines N"
//   /debug/pprof/goroutine?debug=2   every goroutine's stack (Go's traceback text)
//   /debug/pprof/trace?seconds=N     gocxx: Chrome Trace Event JSON; Go: Go's binary trace
// These requests go straight to the target, never through the fault-injecting proxy, so that
// what is measured is the target, not the faults.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <gocxx/errors.hpp>
#include <gocxx/http.hpp>

#include "cli.hpp"

namespace gocxx::pressure {

// "goroutine profile: total N" -> N.
std::optional<int> parse_pprof_total(std::string_view body);
// The value of an unlabelled sample "name VALUE" in the Prometheus text format.
std::optional<double> parse_metric(std::string_view body, std::string_view name);

class Probe {
 public:
  // base: "http://host:port" (a path after it is ignored).
  Probe(std::string base, CountSource source, Duration timeout);

  // The target's goroutine count. With CountSource::automatic the first success decides the
  // endpoint: pprof, or /metrics when pprof is not served (404 or no profile line).
  [[nodiscard]] Result<int> goroutines();
  // "pprof" or "metrics" once known; "" before.
  std::string source_name() const;
  // The body of GET base + path_and_query (an error for a non-200 status).
  [[nodiscard]] Result<std::string> get(std::string_view path_and_query, Duration timeout);
  struct Download {
    std::string body;
    std::string content_type;
  };
  [[nodiscard]] Result<Download> download(std::string_view path_and_query, Duration timeout);
  const std::string& base() const { return base_; }

 private:
  [[nodiscard]] Result<int> from_pprof();
  [[nodiscard]] Result<int> from_metrics();

  std::string base_;
  CountSource source_;
  Duration timeout_;
  http::Client client_;
};

}  // namespace gocxx::pressure

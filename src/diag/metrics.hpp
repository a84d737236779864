// Inside gocxx::metrics (gocxx/metrics.hpp): a registered metric's description, the name
// checks, and the runtime's collector (metrics_runtime.cpp).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gocxx/metrics.hpp"

namespace gocxx::metrics {

namespace detail {

struct Desc {
  std::string name;
  std::string help;
  MetricType type = MetricType::untyped;
  std::vector<std::string> label_names;  // in the order given (with_label_values' order)
  std::vector<double> buckets;           // histograms: finite upper bounds, increasing
};

}  // namespace detail

namespace impl {

// The Prometheus data model: [a-zA-Z_:][a-zA-Z0-9_:]* and [a-zA-Z_][a-zA-Z0-9_]*.
bool valid_metric_name(std::string_view name);
bool valid_label_name(std::string_view name);
bool valid_utf8(std::string_view s);

// A counter's, gauge's or untyped metric's sample.
inline Sample value_sample(double value,
                           std::vector<std::pair<std::string, std::string>> labels = {}) {
  Sample s;
  s.labels = std::move(labels);
  s.value = value;
  return s;
}

// The runtime's metrics (go_*, process_*, gocxx_*) as one collector.
std::shared_ptr<const Collector> make_runtime_collector();

}  // namespace impl

}  // namespace gocxx::metrics

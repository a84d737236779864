// Server-side SVG charts for the report (no script, no inline style: presentation attributes and
// CSS classes only, so the page's Content-Security-Policy holds). Each chart is a responsive
// <svg> with a viewBox, a <title> for screen readers, and its numbers as text.
//
//   web::interval_chart({{"concurrency", 0.8, -0.2, 1.8, 0.5}}, -4, 4);   // θ̂, 95% CI, the cut
//   web::line_chart("θ after each item", {{"concurrency", {{1, 0.2}, {2, 0.7}}}}, "item", "θ");
//   web::bar_chart("Time per item (s)", {{"#1", 42}, {"#2", 95}});
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace assess::web {

struct Interval {
  std::string label;
  double value = 0, lo = 0, hi = 0, cut = 0;
};
// One row per interval on a common axis from x0 to x1: the interval as a bar, the estimate as a
// dot, the cut as a tick.
std::string interval_chart(const std::vector<Interval>& rows, double x0, double x1);

struct Series {
  std::string label;
  std::vector<std::pair<double, double>> points;  // (x, y), x increasing
};
std::string line_chart(std::string_view title, const std::vector<Series>& series, std::string_view x_label,
                       std::string_view y_label);

std::string bar_chart(std::string_view title, const std::vector<std::pair<std::string, double>>& bars);

}  // namespace assess::web

#include "web/charts.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "web/html.hpp"

namespace assess::web {

namespace {

constexpr double kWidth = 640, kLeft = 110, kRight = 20;

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string label(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, std::fabs(v) >= 100 ? "%.0f" : "%.2g", v);
  return buf;
}

std::string open_svg(std::string_view title, double height) {
  return "<svg class=\"chart\" viewBox=\"0 0 " + num(kWidth) + " " + num(height) +
         "\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\"><title>" + escape(title) + "</title>";
}

// Series are told apart by class (CSS colours them) and by their legend.
std::string series_class(std::size_t i) { return "s" + std::to_string(i % 6); }

}  // namespace

std::string interval_chart(const std::vector<Interval>& rows, double x0, double x1) {
  const double row = 34, top = 24, height = top + row * static_cast<double>(rows.size()) + 24;
  auto x = [&](double v) { return kLeft + (std::clamp(v, x0, x1) - x0) / (x1 - x0) * (kWidth - kLeft - kRight); };
  std::string svg = open_svg("Ability per dimension: estimate with 95% interval and the pass cut", height);
  for (double t = std::ceil(x0); t <= x1; t += 1)
    svg += "<line class=\"grid\" x1=\"" + num(x(t)) + "\" y1=\"" + num(top - 8) + "\" x2=\"" + num(x(t)) + "\" y2=\"" +
           num(height - 20) + "\"/><text class=\"tick\" x=\"" + num(x(t)) + "\" y=\"" + num(height - 6) +
           "\" text-anchor=\"middle\">" + label(t) + "</text>";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const Interval& r = rows[i];
    double y = top + row * static_cast<double>(i) + row / 2;
    svg += "<text class=\"name\" x=\"4\" y=\"" + num(y + 4) + "\">" + escape(r.label) + "</text>"
           "<line class=\"ci\" x1=\"" + num(x(r.lo)) + "\" y1=\"" + num(y) + "\" x2=\"" + num(x(r.hi)) + "\" y2=\"" +
           num(y) + "\" stroke-width=\"6\"/><line class=\"cut\" x1=\"" + num(x(r.cut)) + "\" y1=\"" + num(y - 12) +
           "\" x2=\"" + num(x(r.cut)) + "\" y2=\"" + num(y + 12) + "\" stroke-width=\"2\"/><circle class=\"est\" cx=\"" +
           num(x(r.value)) + "\" cy=\"" + num(y) + "\" r=\"6\"><title>" + escape(r.label) + ": θ " + label(r.value) +
           ", 95% [" + label(r.lo) + ", " + label(r.hi) + "], cut " + label(r.cut) + "</title></circle>";
  }
  return svg + "</svg>";
}

std::string line_chart(std::string_view title, const std::vector<Series>& series, std::string_view x_label,
                       std::string_view y_label) {
  const double height = 240, top = 16, bottom = 200;
  double x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  bool first = true;
  for (const Series& s : series)
    for (auto [px, py] : s.points) {
      if (first) x0 = x1 = px, y0 = y1 = py, first = false;
      x0 = std::min(x0, px), x1 = std::max(x1, px), y0 = std::min(y0, py), y1 = std::max(y1, py);
    }
  if (x1 <= x0) x1 = x0 + 1;
  if (y1 <= y0) y1 = y0 + 1;
  auto x = [&](double v) { return kLeft + (v - x0) / (x1 - x0) * (kWidth - kLeft - kRight); };
  auto y = [&](double v) { return bottom - (v - y0) / (y1 - y0) * (bottom - top); };
  std::string svg = open_svg(title, height);
  svg += "<line class=\"axis\" x1=\"" + num(kLeft) + "\" y1=\"" + num(bottom) + "\" x2=\"" + num(kWidth - kRight) +
         "\" y2=\"" + num(bottom) + "\"/><line class=\"axis\" x1=\"" + num(kLeft) + "\" y1=\"" + num(top) + "\" x2=\"" +
         num(kLeft) + "\" y2=\"" + num(bottom) + "\"/>";
  svg += "<text class=\"tick\" x=\"" + num(kLeft - 6) + "\" y=\"" + num(top + 4) + "\" text-anchor=\"end\">" + label(y1) +
         "</text><text class=\"tick\" x=\"" + num(kLeft - 6) + "\" y=\"" + num(bottom) + "\" text-anchor=\"end\">" +
         label(y0) + "</text><text class=\"tick\" x=\"" + num(kLeft) + "\" y=\"" + num(bottom + 16) + "\">" + label(x0) +
         "</text><text class=\"tick\" x=\"" + num(kWidth - kRight) + "\" y=\"" + num(bottom + 16) +
         "\" text-anchor=\"end\">" + label(x1) + "</text>";
  svg += "<text class=\"name\" x=\"4\" y=\"" + num((top + bottom) / 2) + "\">" + escape(y_label) +
         "</text><text class=\"name\" x=\"" + num((kLeft + kWidth) / 2) + "\" y=\"" + num(bottom + 32) +
         "\" text-anchor=\"middle\">" + escape(x_label) + "</text>";
  for (std::size_t i = 0; i < series.size(); ++i) {
    std::string pts;
    for (auto [px, py] : series[i].points) pts += num(x(px)) + "," + num(y(py)) + " ";
    svg += "<polyline class=\"line " + series_class(i) + "\" fill=\"none\" stroke-width=\"2\" points=\"" + pts + "\"/>";
    for (auto [px, py] : series[i].points)
      if (series[i].points.size() <= 40)
        svg += "<circle class=\"dot " + series_class(i) + "\" cx=\"" + num(x(px)) + "\" cy=\"" + num(y(py)) + "\" r=\"3\"/>";
    svg += "<text class=\"legend " + series_class(i) + "\" x=\"" + num(kLeft + 8 + 130 * static_cast<double>(i)) +
           "\" y=\"" + num(top + 4) + "\">" + escape(series[i].label) + "</text>";
  }
  return svg + "</svg>";
}

std::string bar_chart(std::string_view title, const std::vector<std::pair<std::string, double>>& bars) {
  const double row = 22, top = 8, height = top + row * static_cast<double>(bars.size()) + 8;
  double max = 1;
  for (const auto& b : bars) max = std::max(max, b.second);
  std::string svg = open_svg(title, height);
  for (std::size_t i = 0; i < bars.size(); ++i) {
    double y = top + row * static_cast<double>(i);
    double w = bars[i].second / max * (kWidth - kLeft - kRight - 50);
    svg += "<text class=\"name\" x=\"4\" y=\"" + num(y + 15) + "\">" + escape(bars[i].first) + "</text><rect class=\"bar\" x=\"" +
           num(kLeft) + "\" y=\"" + num(y + 3) + "\" width=\"" + num(std::max(w, 1.0)) + "\" height=\"" + num(row - 6) +
           "\"/><text class=\"tick\" x=\"" + num(kLeft + w + 4) + "\" y=\"" + num(y + 15) + "\">" + label(bars[i].second) +
           "</text>";
  }
  return svg + "</svg>";
}

}  // namespace assess::web

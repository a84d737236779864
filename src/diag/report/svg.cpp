// The report's charts as inline SVG (render.hpp): fixed-size drawings scaled by the page's CSS,
// all text escaped. No scripts: a label too long for its column is cut, and the full text is
// the element's <title> (a tooltip).
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "diag/report/render.hpp"

namespace gocxx::report::detail {

namespace {

constexpr double kWidth = 760;
constexpr const char* kPalette[] = {"#2b6cb0", "#c53030", "#2f855a", "#b7791f",
                                    "#6b46c1", "#0987a0", "#97266d", "#4a5568"};
constexpr std::size_t kMaxLabel = 38;  // bytes of a bar label before it is cut

std::string px(double v) { return fixed(v, 1); }

std::string text_at(double x, double y, std::string_view text, std::string_view attrs = "") {
  std::string out = "<text x=\"" + px(x) + "\" y=\"" + px(y) + "\"";
  if (!attrs.empty()) {
    out += ' ';
    out += attrs;
  }
  return out + ">" + html_escape(text) + "</text>\n";
}

std::string line(double x1, double y1, double x2, double y2, std::string_view stroke) {
  return "<line x1=\"" + px(x1) + "\" y1=\"" + px(y1) + "\" x2=\"" + px(x2) + "\" y2=\"" + px(y2) +
         "\" stroke=\"" + std::string(stroke) + "\"/>\n";
}

std::string open_svg(double height, std::string_view title) {
  std::string h = px(height);
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"" + px(kWidth) +
         "\" height=\"" + h + "\" viewBox=\"0 0 " + px(kWidth) + ' ' + h + "\" aria-label=\"" +
         html_escape(title) + "\">\n<title>" + html_escape(title) + "</title>\n" +
         text_at(12, 20, title, "font-size=\"14\" font-weight=\"bold\" fill=\"#1d2327\"");
}

// Axis ticks: multiples of 1, 2 or 5 times a power of ten, about `target` of them over [lo, hi].
struct Axis {
  double lo, hi, step;
};

Axis nice_axis(double lo, double hi, bool from_zero, int target) {
  if (from_zero) lo = std::min(lo, 0.0);
  if (!(hi > lo)) hi = lo + 1;
  double raw = (hi - lo) / target;
  double mag = std::pow(10, std::floor(std::log10(raw)));
  double norm = raw / mag;
  double step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
  return {std::floor(lo / step) * step, std::ceil(hi / step) * step, step};
}

// Cuts text to at most `max` bytes at a UTF-8 character boundary, marking the cut.
std::string cut(std::string_view text, std::size_t max) {
  if (text.size() <= max) return std::string(text);
  std::size_t n = max - 1;
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
  return std::string(text.substr(0, n)) + "…";
}

}  // namespace

std::string svg_line_chart(std::string_view title, std::string_view x_label,
                           std::string_view y_label, const std::vector<Document::Series>& series) {
  constexpr double kLeft = 72, kRight = 24, kTop = 40, kPlotH = 220, kLegendRow = 18;
  const double plot_w = kWidth - kLeft - kRight;
  const double bottom = kTop + kPlotH;
  const double height = bottom + 56 + kLegendRow * static_cast<double>(series.size());
  double x_lo = std::numeric_limits<double>::infinity(), x_hi = -x_lo, y_lo = x_lo, y_hi = -x_lo;
  for (const auto& s : series) {
    for (const auto& [x, y] : s.points) {
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      x_lo = std::min(x_lo, x);
      x_hi = std::max(x_hi, x);
      y_lo = std::min(y_lo, y);
      y_hi = std::max(y_hi, y);
    }
  }
  std::string out = open_svg(height, title);
  if (x_lo > x_hi) {
    return out + text_at(kLeft, kTop + kPlotH / 2, "no data", "fill=\"#718096\"") + "</svg>\n";
  }
  if (x_hi == x_lo) x_hi = x_lo + 1;
  Axis ya = nice_axis(y_lo, y_hi, true, 5);
  Axis xa = nice_axis(x_lo, x_hi, false, 8);
  xa.lo = x_lo;  // the data's own range: a trace starts at 0 and ends where it ends
  xa.hi = x_hi;
  auto sx = [&](double x) { return kLeft + (x - xa.lo) / (xa.hi - xa.lo) * plot_w; };
  auto sy = [&](double y) { return bottom - (y - ya.lo) / (ya.hi - ya.lo) * kPlotH; };

  for (double y = ya.lo; y <= ya.hi + ya.step / 2; y += ya.step) {
    out += line(kLeft, sy(y), kLeft + plot_w, sy(y), "#e2e8f0");
    out += text_at(kLeft - 6, sy(y) + 4, compact(y), "font-size=\"11\" text-anchor=\"end\" fill=\"#4a5568\"");
  }
  for (double x = std::ceil(xa.lo / xa.step) * xa.step; x <= xa.hi + xa.step * 1e-9; x += xa.step) {
    out += line(sx(x), bottom, sx(x), bottom + 4, "#4a5568");
    out += text_at(sx(x), bottom + 17, compact(x), "font-size=\"11\" text-anchor=\"middle\" fill=\"#4a5568\"");
  }
  out += line(kLeft, bottom, kLeft + plot_w, bottom, "#4a5568");
  out += line(kLeft, kTop, kLeft, bottom, "#4a5568");
  out += text_at(kLeft + plot_w / 2, bottom + 36, x_label,
                 "font-size=\"12\" text-anchor=\"middle\" fill=\"#1d2327\"");
  out += "<text transform=\"translate(16 " + px(kTop + kPlotH / 2) +
         ") rotate(-90)\" font-size=\"12\" text-anchor=\"middle\" fill=\"#1d2327\">" +
         html_escape(y_label) + "</text>\n";

  for (std::size_t i = 0; i < series.size(); ++i) {
    const auto& s = series[i];
    std::string color = kPalette[i % std::size(kPalette)];
    std::string pts;
    for (const auto& [x, y] : s.points) {
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      if (!pts.empty()) pts += ' ';
      pts += px(sx(x)) + ',' + px(sy(y));
    }
    out += "<g><title>" + html_escape(s.name) + "</title>\n";
    if (s.points.size() == 1) {
      out += "<circle cx=\"" + px(sx(s.points[0].first)) + "\" cy=\"" + px(sy(s.points[0].second)) +
             "\" r=\"3\" fill=\"" + color + "\"/>\n";
    } else if (!pts.empty()) {
      out += "<polyline fill=\"none\" stroke=\"" + color +
             "\" stroke-width=\"1.8\" stroke-linejoin=\"round\" points=\"" + pts + "\"/>\n";
    }
    out += "</g>\n";
    double ly = bottom + 52 + kLegendRow * static_cast<double>(i);
    out += "<rect x=\"" + px(kLeft) + "\" y=\"" + px(ly - 9) + "\" width=\"14\" height=\"4\" fill=\"" +
           color + "\"/>\n";
    out += text_at(kLeft + 20, ly - 3, s.name, "font-size=\"12\" fill=\"#1d2327\"");
  }
  return out + "</svg>\n";
}

std::string svg_bar_chart(std::string_view title,
                          const std::vector<std::pair<std::string, double>>& bars) {
  constexpr double kTop = 34, kRow = 22, kLabelW = 260, kBarMax = 400;
  const double height = kTop + kRow * static_cast<double>(bars.size()) + 10;
  std::string out = open_svg(height, title);
  double max = 0;
  for (const auto& b : bars) max = std::max(max, b.second);
  for (std::size_t i = 0; i < bars.size(); ++i) {
    const auto& [label, value] = bars[i];
    double y = kTop + kRow * static_cast<double>(i);
    double w = max > 0 ? value / max * kBarMax : 0;
    if (value > 0) w = std::max(w, 1.0);
    out += "<g><title>" + html_escape(label) + ": " + html_escape(compact(value)) + "</title>\n";
    out += text_at(kLabelW - 8, y + 15, cut(label, kMaxLabel),
                   "font-size=\"12\" text-anchor=\"end\" fill=\"#1d2327\"");
    out += "<rect x=\"" + px(kLabelW) + "\" y=\"" + px(y + 3) + "\" width=\"" + px(w) +
           "\" height=\"16\" fill=\"" + kPalette[0] + "\"/>\n";
    out += text_at(kLabelW + w + 6, y + 15, compact(value), "font-size=\"12\" fill=\"#4a5568\"");
    out += "</g>\n";
  }
  return out + "</svg>\n";
}

}  // namespace gocxx::report::detail

// What the report's files share (gocxx/report.hpp): escaping, number formats and the SVG charts.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gocxx/report.hpp"

namespace gocxx::report::detail {

// Text for HTML and SVG, content or attribute: & < > " ' escaped.
std::string html_escape(std::string_view text);

// `v` with `decimals` digits after the point, locale-independent ("12.5").
std::string fixed(double v, int decimals);
// Short axis and table numbers: "950", "1.5k", "2.25M"; up to 3 significant digits.
std::string compact(double v);
// "850 ns", "12.3 µs", "4.56 ms", "2.01 s", "3 min 12 s".
std::string duration(std::int64_t ns);
// "12.5%" of part in whole ("-" if whole is 0).
std::string percent(double part, double whole);

std::string svg_line_chart(std::string_view title, std::string_view x_label,
                           std::string_view y_label, const std::vector<Document::Series>& series);
std::string svg_bar_chart(std::string_view title,
                          const std::vector<std::pair<std::string, double>>& bars);

}  // namespace gocxx::report::detail

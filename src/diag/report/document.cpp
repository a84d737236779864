// gocxx::report::Document: blocks kept as given, rendered on demand to Markdown or HTML.
//
// Everything a caller passes is text. In HTML it is entity-escaped; in Markdown the characters
// that could start markup (emphasis, links, raw HTML, code spans, table cells) are
// backslash-escaped, and code blocks get a fence longer than any run of backticks inside, so a
// hostile function name or dump line cannot inject markup into either file.
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <system_error>

#include "diag/report/render.hpp"
#include "gocxx/report.hpp"

namespace gocxx::report {

using detail::html_escape;

struct Document::Block {
  enum Kind { kHeading, kParagraph, kTable, kCode, kLineChart, kBarChart };
  explicit Block(Kind k, std::string t = {}, int l = 0) : kind(k), text(std::move(t)), level(l) {}

  Kind kind;
  std::string text;  // heading, paragraph, code; a chart's title
  int level;         // heading
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::string x_label, y_label;
  std::vector<Series> series;
  std::vector<std::pair<std::string, double>> bars;
};

namespace {

constexpr std::size_t kChartTableRows = 12;
constexpr int kTextBarWidth = 30;

// `block`: the text starts a block (a paragraph), where a leading "-" would make a list.
std::string md_escape(std::string_view text, bool block = true) {
  std::string out;
  out.reserve(text.size());
  bool line_start = block;
  for (char c : text) {
    if (c == '\r') continue;
    if (std::strchr("\\`*_[]<>&|~#", c) != nullptr && c != '\0') {
      out += '\\';
    } else if (line_start && (c == '-' || c == '+' || c == '=')) {
      out += '\\';  // a list item or a setext heading underline
    }
    out += c;
    line_start = c == '\n';
  }
  return out;
}

// A table cell: one line.
std::string md_cell(std::string_view text) {
  std::string s = md_escape(text, false);
  std::replace(s.begin(), s.end(), '\n', ' ');
  return s;
}

std::string md_fence(std::string_view text) {
  std::size_t longest = 0, run = 0;
  for (char c : text) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  return std::string(std::max<std::size_t>(3, longest + 1), '`');
}

// A column is numeric (right-aligned) when every non-empty cell starts like a number.
std::vector<bool> numeric_columns(const std::vector<std::string>& header,
                                  const std::vector<std::vector<std::string>>& rows) {
  std::vector<bool> numeric(header.size(), !rows.empty());
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < header.size() && i < row.size(); ++i) {
      const std::string& cell = row[i];
      std::size_t sign = !cell.empty() && (cell[0] == '-' || cell[0] == '+') ? 1 : 0;
      bool number = cell.empty() || cell == "-" ||
                    (cell.size() > sign && std::isdigit(static_cast<unsigned char>(cell[sign])));
      numeric[i] = numeric[i] && number;
    }
  }
  return numeric;
}

void md_table(std::string& out, const std::vector<std::string>& header,
              const std::vector<std::vector<std::string>>& rows) {
  if (header.empty()) return;
  auto numeric = numeric_columns(header, rows);
  out += '|';
  for (const auto& h : header) out += ' ' + md_cell(h) + " |";
  out += "\n|";
  for (std::size_t i = 0; i < header.size(); ++i) out += numeric[i] ? "---:|" : "---|";
  out += '\n';
  for (const auto& row : rows) {
    out += '|';
    for (std::size_t i = 0; i < header.size(); ++i) {
      out += ' ' + (i < row.size() ? md_cell(row[i]) : std::string()) + " |";
    }
    out += '\n';
  }
  out += '\n';
}

void html_table(std::string& out, const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows) {
  if (header.empty()) return;
  auto numeric = numeric_columns(header, rows);
  out += "<table>\n<thead><tr>";
  for (std::size_t i = 0; i < header.size(); ++i) {
    out += numeric[i] ? "<th class=\"num\">" : "<th>";
    out += html_escape(header[i]) + "</th>";
  }
  out += "</tr></thead>\n<tbody>\n";
  for (const auto& row : rows) {
    out += "<tr>";
    for (std::size_t i = 0; i < header.size(); ++i) {
      out += numeric[i] ? "<td class=\"num\">" : "<td>";
      if (i < row.size()) out += html_escape(row[i]);
      out += "</td>";
    }
    out += "</tr>\n";
  }
  out += "</tbody>\n</table>\n";
}

// The line chart as a table: up to kChartTableRows x values spread over all the series' x
// values; each series shows its latest y at or before that x.
void md_line_chart(std::string& out, const std::vector<Document::Series>& series,
                   std::string_view x_label) {
  std::vector<double> xs;
  for (const auto& s : series) {
    for (const auto& p : s.points) xs.push_back(p.first);
  }
  std::sort(xs.begin(), xs.end());
  xs.erase(std::unique(xs.begin(), xs.end()), xs.end());
  if (xs.size() > kChartTableRows) {
    std::vector<double> picked;
    for (std::size_t i = 0; i < kChartTableRows; ++i) {
      picked.push_back(xs[i * (xs.size() - 1) / (kChartTableRows - 1)]);
    }
    xs = std::move(picked);
  }
  std::vector<std::string> header{std::string(x_label)};
  for (const auto& s : series) header.push_back(s.name);
  std::vector<std::vector<std::string>> rows;
  for (double x : xs) {
    std::vector<std::string> row{detail::compact(x)};
    for (const auto& s : series) {
      const auto& pts = s.points;
      auto it = std::upper_bound(pts.begin(), pts.end(), x,
                                 [](double v, const auto& p) { return v < p.first; });
      row.push_back(it == pts.begin() ? "" : detail::compact(std::prev(it)->second));
    }
    rows.push_back(std::move(row));
  }
  md_table(out, header, rows);
}

void md_bar_chart(std::string& out, const std::vector<std::pair<std::string, double>>& bars) {
  double max = 0;
  for (const auto& b : bars) max = std::max(max, b.second);
  std::vector<std::vector<std::string>> rows;
  for (const auto& [label, value] : bars) {
    int width = max > 0 ? static_cast<int>(value / max * kTextBarWidth + 0.5) : 0;
    std::string bar;
    for (int i = 0; i < width; ++i) bar += "█";
    if (width == 0 && value > 0) bar = "▏";
    rows.push_back({label, detail::compact(value), bar});
  }
  md_table(out, {"", "value", ""}, rows);
}

constexpr std::string_view kStyle = R"(
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2327;margin:0;background:#f6f7f9}
main{max-width:1100px;margin:0 auto;padding:24px 32px;background:#fff}
h1{font-size:26px;border-bottom:2px solid #2b6cb0;padding-bottom:6px}
h2{font-size:21px;margin-top:32px;border-bottom:1px solid #dde1e6;padding-bottom:4px}
h3{font-size:17px;margin-top:24px}
table{border-collapse:collapse;margin:12px 0;font-size:13.5px}
th,td{border:1px solid #dde1e6;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eef2f7}
tbody tr:nth-child(even){background:#fafbfc}
.num{text-align:right;font-variant-numeric:tabular-nums}
pre{background:#f3f4f6;border:1px solid #dde1e6;padding:10px;overflow-x:auto;font-size:12.5px}
figure{margin:16px 0}
svg{max-width:100%;height:auto;font-family:system-ui,sans-serif}
)";

}  // namespace

Document::Document(std::string title) : title_(std::move(title)) {}
Document::Document(const Document&) = default;
Document::Document(Document&&) noexcept = default;
Document& Document::operator=(const Document&) = default;
Document& Document::operator=(Document&&) noexcept = default;
Document::~Document() = default;

void Document::heading(std::string_view text, int level) {
  blocks_.emplace_back(Block::kHeading, std::string(text), std::clamp(level, 1, 6));
}

void Document::paragraph(std::string_view text) {
  blocks_.emplace_back(Block::kParagraph, std::string(text));
}

void Document::table(std::vector<std::string> header,
                     std::vector<std::vector<std::string>> rows) {
  Block b(Block::kTable);
  b.header = std::move(header);
  b.rows = std::move(rows);
  blocks_.push_back(std::move(b));
}

void Document::code(std::string_view text) { blocks_.emplace_back(Block::kCode, std::string(text)); }

void Document::line_chart(std::string_view title, std::string_view x_label,
                          std::string_view y_label, std::vector<Series> series) {
  Block b(Block::kLineChart, std::string(title));
  b.x_label = x_label;
  b.y_label = y_label;
  b.series = std::move(series);
  blocks_.push_back(std::move(b));
}

void Document::bar_chart(std::string_view title,
                         std::vector<std::pair<std::string, double>> bars) {
  for (const auto& b : bars) {
    if (!(b.second >= 0)) {
      throw std::invalid_argument("gocxx::report::Document::bar_chart: negative or NaN value for " +
                                  b.first);
    }
  }
  Block b(Block::kBarChart, std::string(title));
  b.bars = std::move(bars);
  blocks_.push_back(std::move(b));
}

std::string Document::markdown() const {
  std::string out = "# " + md_escape(title_) + "\n\n";
  for (const Block& b : blocks_) {
    switch (b.kind) {
      case Block::kHeading:
        out += std::string(b.level, '#') + ' ' + md_cell(b.text) + "\n\n";
        break;
      case Block::kParagraph:
        out += md_escape(b.text) + "\n\n";
        break;
      case Block::kTable:
        md_table(out, b.header, b.rows);
        break;
      case Block::kCode: {
        std::string fence = md_fence(b.text);
        out += fence + "text\n" + b.text;
        if (!b.text.empty() && b.text.back() != '\n') out += '\n';
        out += fence + "\n\n";
        break;
      }
      case Block::kLineChart:
        out += "**" + md_cell(b.text) + "**\n\n";
        md_line_chart(out, b.series, b.x_label);
        break;
      case Block::kBarChart:
        out += "**" + md_cell(b.text) + "**\n\n";
        md_bar_chart(out, b.bars);
        break;
    }
  }
  return out;
}

std::string Document::html() const {
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n";
  out += "<title>" + html_escape(title_) + "</title>\n<style>";
  out += kStyle;
  out += "</style>\n</head>\n<body>\n<main>\n<h1>" + html_escape(title_) + "</h1>\n";
  for (const Block& b : blocks_) {
    switch (b.kind) {
      case Block::kHeading: {
        std::string tag = "h" + std::to_string(b.level);
        out += '<' + tag + '>' + html_escape(b.text) + "</" + tag + ">\n";
        break;
      }
      case Block::kParagraph:
        out += "<p>" + html_escape(b.text) + "</p>\n";
        break;
      case Block::kTable:
        html_table(out, b.header, b.rows);
        break;
      case Block::kCode:
        out += "<pre>" + html_escape(b.text) + "</pre>\n";
        break;
      case Block::kLineChart:
        out += "<figure>\n" + detail::svg_line_chart(b.text, b.x_label, b.y_label, b.series) +
               "</figure>\n";
        break;
      case Block::kBarChart:
        out += "<figure>\n" + detail::svg_bar_chart(b.text, b.bars) + "</figure>\n";
        break;
    }
  }
  out += "</main>\n</body>\n</html>\n";
  return out;
}

void Document::write(const std::string& dir) const {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    throw std::runtime_error("gocxx::report: cannot create directory " + dir + ": " + ec.message());
  }
  for (const auto& [name, text] : {std::pair{"report.md", markdown()}, std::pair{"report.html", html()}}) {
    std::string path = (std::filesystem::path(dir) / name).string();
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    if (f) f.write(text.data(), static_cast<std::streamsize>(text.size()));
    if (f) f.close();
    if (!f) {
      throw std::runtime_error("gocxx::report: cannot write " + path + ": " + std::strerror(errno));
    }
  }
}

}  // namespace gocxx::report

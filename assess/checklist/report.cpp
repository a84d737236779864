// The checklist report as JSON (the web app and CI read it), Markdown (CI summaries) and text.
#include <sstream>

#include "checklist/checklist.hpp"

namespace assess::checklist {
namespace {

const char* mark(Status s) {
  switch (s) {
    case Status::pass: return "PASS";
    case Status::fail: return "FAIL";
    case Status::not_applicable: return "N/A";
  }
  return "?";
}

std::string summary(const Report& r) {
  int n[3] = {0, 0, 0};
  for (const Item& i : r.items) ++n[static_cast<int>(i.status)];
  return std::to_string(n[0]) + " pass, " + std::to_string(n[1]) + " fail, " + std::to_string(n[2]) + " not applicable";
}

// Markdown table cells and list items: no line breaks, no unescaped pipes or markup.
std::string md(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\n') out += ' ';
    else if (c == '|' || c == '*' || c == '_' || c == '`' || c == '<' || c == '>' || c == '[' || c == ']' || c == '\\') {
      out += '\\';
      out += c;
    } else out += c;
  }
  return out;
}

}  // namespace

nlohmann::json to_json(const Report& r) {
  nlohmann::json items = nlohmann::json::array();
  for (const Item& i : r.items)
    items.push_back({{"id", i.id}, {"title", i.title}, {"status", to_string(i.status)}, {"evidence", i.evidence},
                     {"details", i.details}});
  return {{"target", r.target}, {"lang", to_string(r.lang)}, {"checked_at", r.checked_at}, {"items", items}};
}

std::string to_markdown(const Report& r) {
  std::ostringstream out;
  out << "# Production checklist: " << md(r.target) << "\n\n"
      << "Service language: " << to_string(r.lang) << "; checked at " << r.checked_at << "; " << summary(r) << ".\n\n"
      << "| Item | Status |\n|---|---|\n";
  for (const Item& i : r.items) out << "| " << md(i.title) << " | " << mark(i.status) << " |\n";
  for (const Item& i : r.items) {
    out << "\n## " << mark(i.status) << ": " << md(i.title) << "\n\n";
    for (const std::string& e : i.evidence) out << "- " << md(e) << "\n";
  }
  return out.str();
}

std::string to_text(const Report& r) {
  std::ostringstream out;
  out << "production checklist: " << r.target << " (" << to_string(r.lang) << ", " << r.checked_at << ")\n";
  int n = 0;
  for (const Item& i : r.items) {
    out << "\n" << ++n << ". [" << mark(i.status) << "] " << i.title << "\n";
    for (const std::string& e : i.evidence) out << "     " << e << "\n";
  }
  out << "\n" << summary(r) << "\n";
  return out.str();
}

}  // namespace assess::checklist

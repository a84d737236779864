#include "checklist/source_scan.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <unistd.h>

#include "checklist/process.hpp"

namespace fs = std::filesystem;

namespace assess::checklist {

std::string duration_text(std::int64_t ns) {
  struct Unit {
    std::int64_t ns;
    const char* name;
  };
  // Whole multiples read as Go writes the common ones: 3s, 500ms, 2m0s.
  for (Unit u : {Unit{60'000'000'000, "m0s"}, Unit{1'000'000'000, "s"}, Unit{1'000'000, "ms"},
                 Unit{1'000, "µs"}, Unit{1, "ns"}})
    if (ns != 0 && ns % u.ns == 0) return std::to_string(ns / u.ns) + u.name;
  std::ostringstream out;
  out << static_cast<double>(ns) / 1e9 << "s";
  return out.str();
}

// ---- Go: goscan ------------------------------------------------------------------------------

SourceScan from_goscan_json(const nlohmann::json& j) {
  SourceScan s;
  s.tool = "goscan (go/parser, go/types)";
  s.files = j.at("files").get<std::size_t>();
  for (const nlohmann::json& h : j.at("handlers")) {
    HandlerInfo info{.name = h.at("name"), .at = h.at("at"), .patterns = {}, .bound = {},
                     .delegates = h.value("delegates", false)};
    if (h.contains("patterns")) info.patterns = h["patterns"].get<std::vector<std::string>>();
    if (const nlohmann::json& b = h.at("bound"); !b.is_null()) {
      info.bound = Bound{.via = b.at("via"), .at = b.at("at"), .in = b.value("in", ""),
                         .expr = b.at("expr"), .duration_ns = {}, .parent = b.value("parent", "")};
      if (b.contains("duration_ns")) info.bound->duration_ns = b["duration_ns"].get<std::int64_t>();
    }
    s.handlers.push_back(std::move(info));
  }
  s.db_opens = j.at("db_opens").get<std::vector<std::string>>();
  for (const nlohmann::json& x : j.at("db_settings")) {
    PoolSetting p{.call = x.at("call"), .at = x.at("at"), .expr = x.at("expr"), .value = {}};
    if (!x.at("value").is_null()) p.value = x["value"].get<std::int64_t>();
    s.settings.push_back(std::move(p));
  }
  s.errors = j.at("errors").get<std::vector<std::string>>();
  return s;
}

namespace {

const std::vector<std::string> kGoEnv(const fs::path& cache) {
  return {"GO111MODULE=off", "GOFLAGS=", "GOPROXY=off", "GOCACHE=" + (cache / "gocache").string()};
}

// The analyzer's binary, built when missing or older than its source. Built to a temporary name
// and renamed, so that checkers running at once never run a half-written binary.
fs::path goscan_binary(const fs::path& cache) {
  const fs::path src = ASSESS_CHECKLIST_GOSCAN;
  const fs::path dir = cache / "goscan";
  const fs::path bin = dir / "goscan";
  std::error_code ec;
  if (fs::exists(bin, ec) && fs::last_write_time(bin) >= fs::last_write_time(src / "main.go")) return bin;
  fs::create_directories(dir);
  const fs::path tmp = dir / ("goscan.tmp." + std::to_string(getpid()));
  Output o = run_process({"go", "build", "-o", tmp.string(), "."}, kGoEnv(dir), src);
  if (o.status != 0)
    throw std::runtime_error("building the Go analyzer (" + src.string() + ") failed: " + o.err);
  fs::rename(tmp, bin);
  return bin;
}

}  // namespace

SourceScan scan_go(const fs::path& dir, const fs::path& cache) {
  const fs::path bin = goscan_binary(cache);
  Output o = run_process({bin.string(), dir.string()});
  if (o.status != 0) throw std::runtime_error("goscan " + dir.string() + ": " + o.err);
  return from_goscan_json(nlohmann::json::parse(o.out));
}

// ---- gocxx: a source scan --------------------------------------------------------------------

namespace {

struct SourceFile {
  std::string name;      // relative to the scanned directory
  std::string original;
  std::string code;      // comments and string/char contents blanked, same offsets

  std::size_t line(std::size_t offset) const {
    return 1 + static_cast<std::size_t>(std::count(original.begin(), original.begin() + static_cast<long>(offset), '\n'));
  }
  std::string at(std::size_t offset) const { return name + ":" + std::to_string(line(offset)); }
};

// Blanks comments and the insides of string and character literals (raw strings included), so
// that braces and names in them are not code. Newlines stay, so offsets and lines agree.
std::string blank(const std::string& s) {
  std::string out = s;
  auto wipe = [&](std::size_t from, std::size_t to) {
    for (std::size_t i = from; i < to && i < out.size(); ++i)
      if (out[i] != '\n') out[i] = ' ';
  };
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s.compare(i, 2, "//") == 0) {
      std::size_t e = s.find('\n', i);
      wipe(i, e);
      if (e == std::string::npos) break;
      i = e;
    } else if (s.compare(i, 2, "/*") == 0) {
      std::size_t e = s.find("*/", i + 2);
      e = e == std::string::npos ? s.size() : e + 2;
      wipe(i, e);
      i = e - 1;
    } else if (s.compare(i, 2, "R\"") == 0) {
      std::size_t open = s.find('(', i);
      if (open == std::string::npos) break;
      std::string close = ")" + s.substr(i + 2, open - i - 2) + "\"";
      std::size_t e = s.find(close, open);
      e = e == std::string::npos ? s.size() : e + close.size();
      wipe(i + 2, e - 1);
      i = e - 1;
    } else if (s[i] == '"' || (s[i] == '\'' && !(i > 0 && std::isxdigit(static_cast<unsigned char>(s[i - 1]))))) {
      // A ' after a hex digit is a digit separator (1'000), not a character literal.
      const char q = s[i];
      std::size_t j = i + 1;
      while (j < s.size() && s[j] != q && s[j] != '\n') j += s[j] == '\\' ? 2 : 1;
      wipe(i + 1, j);
      i = j;
    }
  }
  return out;
}

std::size_t match(const std::string& code, std::size_t open, char o, char c) {
  int depth = 0;
  for (std::size_t i = open; i < code.size(); ++i) {
    if (code[i] == o) ++depth;
    else if (code[i] == c && --depth == 0) return i;
  }
  return std::string::npos;
}

bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// The identifier ending just before `end` (spaces skipped), and where it starts.
std::string_view ident_before(const std::string& code, std::size_t end, std::size_t* start = nullptr) {
  while (end > 0 && std::isspace(static_cast<unsigned char>(code[end - 1]))) --end;
  std::size_t b = end;
  while (b > 0 && ident_char(code[b - 1])) --b;
  if (start) *start = b;
  return std::string_view(code).substr(b, end - b);
}

const std::set<std::string_view> kNotFunctions = {"if", "for", "while", "switch", "catch", "return", "sizeof",
                                                  "decltype", "requires", "noexcept", "alignof", "static_assert"};

struct Body {
  const SourceFile* file;
  std::size_t begin, end;  // the braces
  std::string name;
};

// Function definitions by name: `name(params) [const] [noexcept] [override] {`.
void find_definitions(const SourceFile& f, std::multimap<std::string, Body>& defs) {
  const std::string& code = f.code;
  for (std::size_t i = code.find('{'); i != std::string::npos; i = code.find('{', i + 1)) {
    std::size_t k = i;
    for (;;) {  // skip trailing qualifiers
      std::size_t b = 0;
      std::string_view q = ident_before(code, k, &b);
      if (q != "const" && q != "noexcept" && q != "override" && q != "final") break;
      k = b;
    }
    while (k > 0 && std::isspace(static_cast<unsigned char>(code[k - 1]))) --k;
    if (k == 0 || code[k - 1] != ')') continue;
    int depth = 0;
    std::size_t p = k - 1;
    for (;; --p) {
      if (code[p] == ')') ++depth;
      else if (code[p] == '(' && --depth == 0) break;
      if (p == 0) break;
    }
    if (depth != 0) continue;
    std::string_view name = ident_before(code, p);
    if (name.empty() || kNotFunctions.contains(name) || std::isdigit(static_cast<unsigned char>(name[0]))) continue;
    std::size_t end = match(code, i, '{', '}');
    if (end == std::string::npos) continue;
    defs.emplace(std::string(name), Body{&f, i, end, std::string(name)});
  }
}

// The arguments of "a, f(b, c), d" (split at its top-level commas, trimmed) as [begin, end)
// offsets into s: code gives the offsets, the original text the words.
std::vector<std::pair<std::size_t, std::size_t>> split_args(std::string_view s) {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  int depth = 0;
  std::size_t from = 0;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    char c = i < s.size() ? s[i] : ',';
    if (c == '(' || c == '{' || c == '[' || c == '<') ++depth;
    else if (c == ')' || c == '}' || c == ']' || c == '>') --depth;
    else if (c == ',' && depth <= 0) {
      std::size_t b = from, e = i;
      while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
      while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
      out.emplace_back(b, e);
      from = i + 1;
    }
  }
  return out;
}

// The arguments of the call whose '(' is at `open` in f, as the original text has them.
std::vector<std::string> call_args(const SourceFile& f, std::size_t open, std::size_t close) {
  std::vector<std::string> out;
  for (auto [b, e] : split_args(std::string_view(f.code).substr(open + 1, close - open - 1)))
    out.push_back(f.original.substr(open + 1 + b, e - b));
  return out;
}

// A std::chrono duration as a gocxx service writes it: 3s, 500ms, 2min, seconds(3), 3 * 1s.
std::optional<std::int64_t> chrono_ns(std::string expr) {
  std::erase_if(expr, [](char c) { return std::isspace(static_cast<unsigned char>(c)) || c == '\''; });
  if (expr.starts_with("std::chrono::")) expr.erase(0, 13);
  static const std::pair<const char*, std::int64_t> kUnits[] = {
      {"h", 3'600'000'000'000}, {"min", 60'000'000'000}, {"s", 1'000'000'000}, {"ms", 1'000'000},
      {"us", 1'000}, {"ns", 1}, {"hours", 3'600'000'000'000}, {"minutes", 60'000'000'000},
      {"seconds", 1'000'000'000}, {"milliseconds", 1'000'000}, {"microseconds", 1'000}, {"nanoseconds", 1}};
  std::int64_t factor = 1;
  if (std::size_t star = expr.find('*'); star != std::string::npos) {
    auto left = chrono_ns(expr.substr(0, star)), right = chrono_ns(expr.substr(star + 1));
    if (left && right) return std::nullopt;  // a duration times a duration is not one
    std::string number = left ? expr.substr(star + 1) : expr.substr(0, star);
    if (number.empty() || !std::all_of(number.begin(), number.end(), ::isdigit)) return std::nullopt;
    factor = std::stoll(number);
    std::optional<std::int64_t> d = left ? left : right;
    return d ? std::optional<std::int64_t>(*d * factor) : std::nullopt;
  }
  std::size_t digits = 0;
  while (digits < expr.size() && std::isdigit(static_cast<unsigned char>(expr[digits]))) ++digits;
  for (auto [unit, ns] : kUnits) {
    if (digits > 0 && expr.substr(digits) == unit) return std::stoll(expr.substr(0, digits)) * ns;
    std::string call = std::string(unit) + "(";
    if (expr.starts_with(call) && expr.ends_with(")")) {
      std::string n = expr.substr(call.size(), expr.size() - call.size() - 1);
      if (!n.empty() && std::all_of(n.begin(), n.end(), ::isdigit)) return std::stoll(n) * ns;
    }
  }
  return std::nullopt;
}

class CxxScanner {
 public:
  explicit CxxScanner(std::vector<SourceFile> files) : files_(std::move(files)) {
    for (const SourceFile& f : files_) {
      find_definitions(f, defs_);
      find_constants(f);
    }
  }

  SourceScan scan() {
    SourceScan s;
    s.tool = "source scan (handle_func handlers, context::with_timeout / with_deadline)";
    s.files = files_.size();
    for (const SourceFile& f : files_) registrations(f, s);
    return s;
  }

 private:
  void registrations(const SourceFile& f, SourceScan& s) {
    const std::string& code = f.code;
    for (std::size_t i = code.find("handle_func"); i != std::string::npos; i = code.find("handle_func", i + 1)) {
      std::size_t open = i + 11;
      while (open < code.size() && std::isspace(static_cast<unsigned char>(code[open]))) ++open;
      if ((i > 0 && ident_char(code[i - 1])) || open >= code.size() || code[open] != '(') continue;
      std::size_t close = match(code, open, '(', ')');
      if (close == std::string::npos) continue;
      std::vector<std::string> args = call_args(f, open, close);
      std::vector<std::pair<std::size_t, std::size_t>> spans =
          split_args(std::string_view(code).substr(open + 1, close - open - 1));
      // Two arguments, the second a lambda or a name: a declaration has "HandlerFunc handler".
      if (args.size() != 2 || (!args[1].starts_with('[') && args[1].find(' ') != std::string::npos)) continue;
      HandlerInfo h;
      h.at = f.at(i);
      std::string pattern = args[0];
      if (pattern.size() >= 2 && pattern.front() == '"' && pattern.back() == '"') pattern = pattern.substr(1, pattern.size() - 2);
      h.patterns.push_back(pattern);
      const std::string& handler = args[1];
      const std::size_t handler_at = open + 1 + spans[1].first;
      if (handler.starts_with('[')) {
        std::size_t body = code.find('{', handler_at);
        h.name = "lambda at " + f.at(handler_at);
        if (body != std::string::npos && body < close) {
          std::set<std::string> seen;
          h.bound = bound_in({&f, body, match(code, body, '{', '}'), ""}, seen);
        }
      } else {
        h.name = handler;
        std::set<std::string> seen;
        h.bound = bound_of(handler.substr(handler.rfind(':') == std::string::npos ? 0 : handler.rfind(':') + 1), seen);
      }
      s.handlers.push_back(std::move(h));
    }
  }

  std::optional<Bound> bound_of(const std::string& name, std::set<std::string>& seen) {
    if (!seen.insert(name).second) return std::nullopt;
    auto [b, e] = defs_.equal_range(name);
    for (auto it = b; it != e; ++it)
      if (std::optional<Bound> found = bound_in(it->second, seen)) return found;
    return std::nullopt;
  }

  // The first with_timeout/with_deadline in the body, else in a function it calls by name.
  std::optional<Bound> bound_in(const Body& body, std::set<std::string>& seen) {
    const std::string& code = body.file->code;
    std::string_view text = std::string_view(code).substr(body.begin, body.end - body.begin);
    for (const char* call : {"with_timeout", "with_deadline"}) {
      std::size_t at = text.find(call);
      if (at == std::string_view::npos) continue;
      std::size_t abs = body.begin + at, open = code.find('(', abs);
      std::size_t close = open == std::string::npos ? open : match(code, open, '(', ')');
      Bound b{.via = std::string("context::") + call, .at = body.file->at(abs), .in = body.name,
              .expr = "", .duration_ns = {}, .parent = ""};
      if (close != std::string::npos) {
        std::vector<std::string> args = call_args(*body.file, open, close);
        if (args.size() == 2) {
          b.parent = args[0];
          b.expr = args[1];
          if (call == std::string_view("with_timeout")) b.duration_ns = duration(args[1]);
        }
      }
      return b;
    }
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (text[i] != '(') continue;
      std::string_view callee = ident_before(code, body.begin + i);
      if (callee.empty() || kNotFunctions.contains(callee)) continue;
      if (std::optional<Bound> found = bound_of(std::string(callee), seen)) return found;
    }
    return std::nullopt;
  }

  // `constexpr ... NAME = EXPR;`: a bound is often a named constant.
  void find_constants(const SourceFile& f) {
    for (std::size_t i = f.code.find("constexpr"); i != std::string::npos; i = f.code.find("constexpr", i + 1)) {
      std::size_t eq = f.code.find('=', i), semi = f.code.find(';', i);
      if (eq == std::string::npos || semi == std::string::npos || eq > semi) continue;
      std::string_view name = ident_before(f.code, eq);
      std::string_view expr = std::string_view(f.original).substr(eq + 1, semi - eq - 1);
      if (!name.empty()) constants_.emplace(std::string(name), std::string(expr));
    }
  }

  std::optional<std::int64_t> duration(const std::string& expr) const {
    if (std::optional<std::int64_t> ns = chrono_ns(expr)) return ns;
    auto it = constants_.find(expr);
    return it == constants_.end() ? std::nullopt : chrono_ns(it->second);
  }

  std::vector<SourceFile> files_;
  std::multimap<std::string, Body> defs_;
  std::map<std::string, std::string> constants_;
};

}  // namespace

SourceScan scan_gocxx(const fs::path& dir) {
  if (!fs::is_directory(dir)) throw std::runtime_error("--source " + dir.string() + ": not a directory");
  std::vector<SourceFile> files;
  for (const fs::directory_entry& e : fs::recursive_directory_iterator(dir)) {
    const std::string ext = e.path().extension().string();
    if (!e.is_regular_file() || (ext != ".cpp" && ext != ".cc" && ext != ".cxx" && ext != ".hpp" && ext != ".h")) continue;
    std::ifstream in(e.path(), std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + e.path().string());
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::string code = blank(text);
    files.push_back({fs::relative(e.path(), dir).string(), std::move(text), std::move(code)});
  }
  std::sort(files.begin(), files.end(), [](const SourceFile& a, const SourceFile& b) { return a.name < b.name; });
  return CxxScanner(std::move(files)).scan();
}

}  // namespace assess::checklist

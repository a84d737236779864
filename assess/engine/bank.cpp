#include "engine/bank.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

namespace assess {

namespace fs = std::filesystem;
using nlohmann::json;

const char* to_string(Kind k) {
  switch (k) {
    case Kind::predict: return "predict";
    case Kind::diagnose: return "diagnose";
    case Kind::fix: return "fix";
  }
  return "?";
}

const char* to_string(PredictSpec::Answer a) {
  switch (a) {
    case PredictSpec::Answer::choice: return "choice";
    case PredictSpec::Answer::output: return "output";
    case PredictSpec::Answer::number: return "number";
  }
  return "?";
}

const std::vector<std::string>& Item::choices() const {
  static const std::vector<std::string> none;
  if (predict) return predict->choices;
  if (diagnose) return diagnose->choices;
  return none;
}

BankError::BankError(fs::path file, std::string field, const std::string& problem)
    : std::runtime_error(file.string() + ": " + (field.empty() ? "" : field + ": ") + problem),
      file_(std::move(file)),
      field_(std::move(field)) {}

std::string collapse_space(std::string_view s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = !out.empty();
    } else {
      if (space) out += ' ';
      space = false;
      out += c;
    }
  }
  return out;
}

namespace {

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw BankError(p, "", "cannot read");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// FNV-1a, 64 bits: a cache key over the item's files, not a defence against forgery (the cache
// lives in the build tree, written by the bank check).
struct Fnv {
  std::uint64_t h = 0xcbf29ce484222325ull;
  void add(std::string_view s) {
    for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
    h = (h ^ 0xff) * 0x100000001b3ull;  // separator: ("ab","c") != ("a","bc")
  }
  std::string hex() const {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    return buf;
  }
};

bool is_slug(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

bool is_go_ident(std::string_view s) {
  return !s.empty() && !std::isdigit(static_cast<unsigned char>(s[0])) &&
         std::all_of(s.begin(), s.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

bool has_go_files(const fs::path& dir) {
  if (!fs::is_directory(dir)) return false;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ".go") return true;
  return false;
}

// Reads item.json's fields with errors that name the field; `allowed` catches misspelt keys.
class Fields {
 public:
  Fields(const fs::path& file, const json& obj, std::string prefix,
         std::initializer_list<const char*> allowed)
      : file_(file), obj_(obj), prefix_(std::move(prefix)) {
    if (!obj_.is_object()) fail("", "must be an object");
    for (const auto& [key, value] : obj_.items()) {
      (void)value;
      if (std::none_of(allowed.begin(), allowed.end(), [&](const char* a) { return key == a; }))
        fail(key, "unknown field");
    }
  }

  [[noreturn]] void fail(std::string_view field, const std::string& problem) const {
    std::string name = prefix_;
    if (!field.empty()) name += (name.empty() ? "" : ".") + std::string(field);
    throw BankError(file_, name, problem);
  }

  bool has(const char* key) const { return obj_.contains(key); }
  const json& raw(const char* key) const { return obj_.at(key); }

  std::string str(const char* key, std::optional<std::string> def = std::nullopt) const {
    if (!has(key)) {
      if (def) return *def;
      fail(key, "missing");
    }
    const json& v = obj_.at(key);
    if (!v.is_string() || v.get<std::string>().empty()) fail(key, "must be a non-empty string");
    return v.get<std::string>();
  }

  int integer(const char* key, int lo, int hi, std::optional<int> def = std::nullopt) const {
    if (!has(key)) {
      if (def) return *def;
      fail(key, "missing");
    }
    const json& v = obj_.at(key);
    if (!v.is_number_integer() || v.get<long long>() < lo || v.get<long long>() > hi)
      fail(key, "must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi));
    return v.get<int>();
  }

  double number(const char* key) const {
    if (!has(key)) fail(key, "missing");
    const json& v = obj_.at(key);
    if (!v.is_number() || !std::isfinite(v.get<double>())) fail(key, "must be a number");
    return v.get<double>();
  }

  bool boolean(const char* key, bool def) const {
    if (!has(key)) return def;
    if (!obj_.at(key).is_boolean()) fail(key, "must be true or false");
    return obj_.at(key).get<bool>();
  }

  std::vector<std::string> strings(const char* key, std::size_t min_size, bool required = true) const {
    if (!has(key)) {
      if (required) fail(key, "missing");
      return {};
    }
    const json& v = obj_.at(key);
    if (!v.is_array()) fail(key, "must be an array of strings");
    std::vector<std::string> out;
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (!v[i].is_string() || v[i].get<std::string>().empty())
        fail(std::string(key) + "[" + std::to_string(i) + "]", "must be a non-empty string");
      out.push_back(v[i].get<std::string>());
    }
    if (out.size() < min_size) fail(key, "needs at least " + std::to_string(min_size) + " entries");
    return out;
  }

  std::string one_of(const char* key, std::initializer_list<const char*> values) const {
    std::string v = str(key);
    if (std::none_of(values.begin(), values.end(), [&](const char* a) { return v == a; })) {
      std::string list;
      for (const char* a : values) list += (list.empty() ? "" : " | ") + std::string(a);
      fail(key, "\"" + v + "\" is not one of " + list);
    }
    return v;
  }

  const fs::path& file() const { return file_; }

 private:
  const fs::path& file_;
  const json& obj_;
  std::string prefix_;
};

// Choices must differ after whitespace collapsing, or "two choices match" would be built in.
void check_distinct(const Fields& f, const char* key, const std::vector<std::string>& choices) {
  std::set<std::string> seen;
  for (const std::string& c : choices)
    if (!seen.insert(collapse_space(c)).second) f.fail(key, "duplicate choice \"" + c + "\"");
}

bool is_secret_path(const fs::path& rel) {
  std::string first = rel.begin() == rel.end() ? "" : rel.begin()->string();
  return first == "hidden" || first == "solution" || first == "wrong" || rel == "item.json";
}

// A relative path that stays inside the item (no "..", not absolute).
bool is_inside(const fs::path& rel) {
  if (rel.empty() || rel.is_absolute()) return false;
  return std::none_of(rel.begin(), rel.end(), [](const fs::path& part) { return part == ".."; });
}

PredictSpec load_predict(const Fields& top, const fs::path& dir) {
  Fields f(top.file(), top.raw("predict"), "predict", {"answer", "choices", "runs", "of", "cgo"});
  PredictSpec p;
  std::string answer = f.one_of("answer", {"choice", "output", "number"});
  p.answer = answer == "choice"   ? PredictSpec::Answer::choice
             : answer == "output" ? PredictSpec::Answer::output
                                  : PredictSpec::Answer::number;
  if (p.answer == PredictSpec::Answer::choice) {
    p.choices = f.strings("choices", 2);
    check_distinct(f, "choices", p.choices);
  } else if (f.has("choices")) {
    f.fail("choices", "only for answer \"choice\"");
  }
  p.runs = f.integer("runs", 1, 10, 3);
  p.cgo = f.boolean("cgo", false);
  if (f.has("of")) {
    if (p.answer != PredictSpec::Answer::number) f.fail("of", "only for answer \"number\"");
    p.of = f.str("of");
  }
  if (!has_go_files(dir)) top.fail("kind", "a predict item needs its program (*.go) in the item directory");
  return p;
}

DiagnoseSpec load_diagnose(const Fields& top, const fs::path& dir) {
  Fields f(top.file(), top.raw("diagnose"), "diagnose", {"artifact", "extract", "choices", "evidence", "cgo"});
  DiagnoseSpec d;
  d.artifact = f.one_of("artifact", {"run", "run_stderr", "gcflags_m", "gctrace", "vet", "race"});
  d.extract = f.one_of("extract", {"leak_function", "wait_reason", "moved_to_heap", "race_function",
                                   "vet_analyzer", "evidence"});
  d.choices = f.strings("choices", 2);
  check_distinct(f, "choices", d.choices);
  d.cgo = f.boolean("cgo", false);
  if (d.extract == "evidence") {
    if (!f.has("evidence") || !f.raw("evidence").is_object())
      f.fail("evidence", "extract \"evidence\" needs an object: choice -> regex");
    for (const auto& [choice, re] : f.raw("evidence").items()) {
      std::string field = "evidence[\"" + choice + "\"]";
      if (std::find(d.choices.begin(), d.choices.end(), choice) == d.choices.end())
        f.fail(field, "not one of the choices");
      if (!re.is_string() || re.get<std::string>().empty()) f.fail(field, "must be a non-empty regex");
      try {
        std::regex(re.get<std::string>(), std::regex::ECMAScript);
      } catch (const std::regex_error& e) {
        f.fail(field, std::string("bad regex: ") + e.what());
      }
      d.evidence[choice] = re.get<std::string>();
    }
    for (const std::string& c : d.choices)
      if (!d.evidence.count(c)) f.fail("evidence", "no regex for choice \"" + c + "\"");
  } else if (f.has("evidence")) {
    f.fail("evidence", "only for extract \"evidence\"");
  }
  if (!has_go_files(dir)) top.fail("kind", "a diagnose item needs its program (*.go) in the item directory");
  return d;
}

// The .go files of a solution directory: each must be one of the editable files.
void check_replacement(const Fields& f, const fs::path& dir, const std::vector<std::string>& editable,
                       const std::string& what) {
  bool any = false;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    if (name == "expect.json") continue;
    if (!e.is_regular_file() ||
        std::find(editable.begin(), editable.end(), name) == editable.end())
      f.fail("editable", what + " has " + name + ", which is not an editable file");
    any = true;
  }
  if (!any) f.fail("editable", what + " replaces no editable file");
}

// Variables the grader sets itself: an item's pressure env may not change them.
bool grader_variable(const std::string& name) {
  static const std::set<std::string> names = {"GO111MODULE", "GOPATH", "GOCACHE", "GOPROXY", "GOENV", "GOFLAGS",
                                              "CGO_ENABLED", "TMPDIR", "PATH", "HOME"};
  return names.count(name) > 0 || name.starts_with("ASSESS_");
}

// An item's "env": more environment for the runs it asks for, never the grader's own variables.
std::map<std::string, std::string> load_env(const Fields& f) {
  std::map<std::string, std::string> env;
  if (!f.has("env")) return env;
  static const std::regex name("[A-Z][A-Z0-9_]*");
  if (!f.raw("env").is_object()) f.fail("env", "must be an object: NAME -> value");
  for (const auto& [key, value] : f.raw("env").items()) {
    if (!std::regex_match(key, name)) f.fail("env." + key, "not an environment variable name ([A-Z][A-Z0-9_]*)");
    if (grader_variable(key)) f.fail("env." + key, "the grader sets it");
    if (!value.is_string()) f.fail("env." + key, "must be a string");
    env[key] = value.get<std::string>();
  }
  return env;
}

PressureSpec load_pressure(const Fields& fix) {
  Fields f(fix.file(), fix.raw("pressure"), "fix.pressure",
           {"run", "count", "cpu", "max_goroutines", "timeout_s", "env"});
  PressureSpec p;
  p.run = f.str("run", "");
  p.count = f.integer("count", 1, 20, 1);
  if (f.has("cpu")) {
    const json& cpu = f.raw("cpu");
    if (!cpu.is_array() || cpu.empty()) f.fail("cpu", "must be a non-empty array of GOMAXPROCS values");
    for (const json& n : cpu) {
      if (!n.is_number_integer() || n.get<int>() < 1 || n.get<int>() > 64)
        f.fail("cpu", "must hold integers from 1 to 64");
      p.cpu.push_back(n.get<int>());
    }
  }
  p.max_goroutines = f.integer("max_goroutines", 1, 1'000'000, 5000);
  p.timeout_s = f.integer("timeout_s", 1, 600, 60);
  p.env = load_env(f);
  return p;
}

// A number in [lo, hi], or def when the field is absent.
double bounded(const Fields& f, const char* key, double lo, double hi, double def) {
  if (!f.has(key)) return def;
  double v = f.number(key);
  if (v < lo || v > hi) {
    char range[96];
    std::snprintf(range, sizeof range, "must be a number from %g to %g", lo, hi);
    f.fail(key, range);
  }
  return v;
}

LabSpec load_lab(const Fields& fix) {
  Fields f(fix.file(), fix.raw("lab"), "fix.lab",
           {"path", "rate", "duration_s", "faults", "latency_p99_ms", "max_failed_percent", "leak_slack",
            "threshold", "growth", "shutdown_s", "shutdown_requests", "max_gcs", "max_heap_mb", "facts", "env"});
  LabSpec l;
  l.path = f.str("path", "/");
  static const std::regex path("/[A-Za-z0-9/_.~?=&%-]*");
  if (!std::regex_match(l.path, path)) f.fail("path", "must be a URL path (\"/work?n=1\")");
  l.rate = bounded(f, "rate", 1, 2000, l.rate);
  l.duration_s = f.integer("duration_s", 1, 60, l.duration_s);
  l.faults = f.str("faults", "");
  if (l.faults.find_first_of(" '\"\\") != std::string::npos) f.fail("faults", "a gocxx::net::Faults spec has no spaces or quotes");
  l.latency_p99_ms = f.integer("latency_p99_ms", 1, 60'000, l.latency_p99_ms);
  l.max_failed_percent = bounded(f, "max_failed_percent", 0, 100, l.max_failed_percent);
  l.leak_slack = f.integer("leak_slack", 0, 100'000, l.leak_slack);
  l.threshold = f.integer("threshold", 0, 1'000'000, l.threshold);
  l.growth = bounded(f, "growth", 0, 1e6, l.growth);
  l.shutdown_s = f.integer("shutdown_s", 1, 60, l.shutdown_s);
  l.shutdown_requests = f.integer("shutdown_requests", 0, 50, l.shutdown_requests);
  if (f.has("max_gcs")) l.max_gcs = f.integer("max_gcs", 0, 1'000'000);
  if (f.has("max_heap_mb")) l.max_heap_mb = bounded(f, "max_heap_mb", 0, 1e6, 0);
  if (f.has("facts")) {
    if (!f.raw("facts").is_array()) f.fail("facts", "must be an array of {check, fact, min, max, says}");
    for (std::size_t i = 0; i < f.raw("facts").size(); ++i) {
      Fields g(fix.file(), f.raw("facts")[i], "fix.lab.facts[" + std::to_string(i) + "]",
               {"check", "fact", "min", "max", "says"});
      LabFact x;
      x.check = g.one_of("check", {"leak", "latency", "shutdown", "heap", "consistency"});
      x.fact = g.str("fact");
      if (g.has("min")) x.min = g.number("min");
      if (g.has("max")) x.max = g.number("max");
      if (!x.min && !x.max) g.fail("", "needs min or max");
      x.says = g.str("says");
      l.facts.push_back(std::move(x));
    }
  }
  l.env = load_env(f);
  return l;
}

FixSpec load_fix(const Fields& top, const fs::path& dir) {
  Fields f(top.file(), top.raw("fix"), "fix", {"package", "editable", "checks", "test_timeout_s", "cgo", "pressure", "lab"});
  FixSpec x;
  x.package = f.str("package");
  if (!is_go_ident(x.package)) f.fail("package", "not a Go package name");
  fs::path start = dir / "start";
  if (!has_go_files(start)) top.fail("kind", "a fix item needs start/ with the candidate's *.go files");
  x.editable = f.strings("editable", 1);
  for (std::size_t i = 0; i < x.editable.size(); ++i) {
    const std::string& e = x.editable[i];
    std::string field = "editable[" + std::to_string(i) + "]";
    if (e.find('/') != std::string::npos || fs::path(e).extension() != ".go")
      f.fail(field, "must be a .go file name in start/ (no directories)");
    if (!fs::is_regular_file(start / e)) f.fail(field, "start/" + e + " does not exist");
  }
  x.checks = f.strings("checks", 1);
  std::size_t next = 0;  // the checks must keep kChecks' order
  for (std::size_t i = 0; i < x.checks.size(); ++i) {
    auto at = std::find_if(std::begin(kChecks), std::end(kChecks),
                           [&](const char* c) { return x.checks[i] == c; });
    std::string field = "checks[" + std::to_string(i) + "]";
    if (at == std::end(kChecks)) f.fail(field, "\"" + x.checks[i] + "\" is not one of build, vet, race, leak, test");
    std::size_t pos = static_cast<std::size_t>(at - std::begin(kChecks));
    if (pos < next) f.fail(field, "checks must be in the order build, vet, race, leak, test, each once");
    next = pos + 1;
  }
  x.test_timeout_s = f.integer("test_timeout_s", 1, 600, 20);
  x.cgo = f.boolean("cgo", false);
  if (f.has("pressure")) x.pressure = load_pressure(f);
  if (f.has("lab")) {
    if (x.package != "main") f.fail("lab", "a lab's service is a program: fix.package must be \"main\"");
    x.lab = load_lab(f);
  }

  fs::path hidden = dir / "hidden";
  if (fs::exists(hidden)) {
    for (const auto& e : fs::directory_iterator(hidden)) {
      std::string name = e.path().filename().string();
      if (!e.is_regular_file() || !name.ends_with("_test.go"))
        top.fail("fix", "hidden/" + name + ": hidden/ holds *_test.go files only");
      if (fs::exists(start / name)) top.fail("fix", "hidden/" + name + " would overwrite start/" + name);
    }
  }
  if (!fs::is_directory(dir / "solution")) top.fail("fix", "the reference solution (solution/) is missing");
  check_replacement(f, dir / "solution", x.editable, "solution/");

  fs::path wrong = dir / "wrong";
  if (fs::is_directory(wrong)) {
    for (const auto& e : fs::directory_iterator(wrong)) {
      if (!e.is_directory()) continue;
      WrongSolution w{e.path().filename().string(), "", "", ""};
      fs::path expect = e.path() / "expect.json";
      json j;
      try {
        j = json::parse(read_text(expect));
      } catch (const json::exception& ex) {
        throw BankError(expect, "", std::string("not valid JSON: ") + ex.what());
      }
      Fields ef(expect, j, "", {"fails", "why", "shows"});
      w.fails = ef.str("fails");
      w.why = ef.str("why");
      w.shows = ef.str("shows", "");
      std::string check = w.fails.starts_with("test:") ? "test" : w.fails;
      if (w.fails.starts_with("test:") && !is_go_ident(w.fails.substr(5)))
        ef.fail("fails", "\"test:\" must name a test function");
      if (w.fails == "pressure") {
        if (!x.pressure) ef.fail("fails", "\"pressure\" needs the item's fix.pressure section");
      } else if (w.fails == "lab") {
        if (!x.lab) ef.fail("fails", "\"lab\" needs the item's fix.lab section");
      } else if (std::find(x.checks.begin(), x.checks.end(), check) == x.checks.end()) {
        ef.fail("fails", "\"" + w.fails + "\" is not one of the item's checks");
      }
      if (!w.shows.empty() && w.fails != "pressure" && w.fails != "lab")
        ef.fail("shows", "only for \"fails\": \"pressure\" or \"lab\"");
      check_replacement(f, e.path(), x.editable, "wrong/" + w.name + "/");
      x.wrong.push_back(std::move(w));
    }
  }
  if (x.wrong.size() < 2) top.fail("fix", "needs at least two known-wrong solutions (wrong/<name>/)");
  bool drill_wrong =
      std::any_of(x.wrong.begin(), x.wrong.end(), [](const WrongSolution& w) { return w.fails == "pressure"; });
  if (x.pressure && !drill_wrong)
    f.fail("pressure", "a drill needs a known-wrong solution that fails at \"pressure\" (and passes every other check)");
  bool lab_wrong =
      std::any_of(x.wrong.begin(), x.wrong.end(), [](const WrongSolution& w) { return w.fails == "lab"; });
  if (x.lab && !lab_wrong)
    f.fail("lab", "a lab needs a known-wrong solution that fails at \"lab\" (and passes every other check)");
  std::sort(x.wrong.begin(), x.wrong.end(),
            [](const WrongSolution& a, const WrongSolution& b) { return a.name < b.name; });
  return x;
}

}  // namespace

Files read_files(const fs::path& dir) {
  Files out;
  if (!fs::is_directory(dir)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) out[fs::relative(e.path(), dir).generic_string()] = read_text(e.path());
  return out;
}

Item load_item(const fs::path& dir) {
  fs::path file = dir / "item.json";
  if (!fs::is_regular_file(file)) throw BankError(file, "", "missing");
  json j;
  try {
    j = json::parse(read_text(file));
  } catch (const json::exception& e) {
    throw BankError(file, "", std::string("not valid JSON: ") + e.what());
  }
  Fields f(file, j, "",
           {"id", "version", "title", "dimension", "level", "kind", "go", "tags", "irt",
            "time_limit_s", "show", "source", "predict", "diagnose", "fix"});
  Item it;
  it.dir = dir;
  it.id = f.str("id");
  if (!is_slug(it.id)) f.fail("id", "must match [a-z0-9-]+");
  std::string dirname = dir.filename().string();
  static const std::regex nn_slug("[0-9][0-9]-(.+)");
  std::smatch m;
  if (!std::regex_match(dirname, m, nn_slug))
    throw BankError(dir, "", "an item directory is named NN-<id>");
  if (m[1].str() != it.id) f.fail("id", "\"" + it.id + "\" differs from the directory name " + dirname);
  it.version = f.integer("version", 1, 1'000'000);
  it.title = f.str("title");
  it.dimension = f.one_of("dimension", {"concurrency", "memory", "robustness", "ecosystem"});
  if (dir.parent_path().filename() != it.dimension)
    f.fail("dimension", "\"" + it.dimension + "\" but the item is under " +
                            dir.parent_path().filename().string() + "/");
  it.level = f.integer("level", 1, 5);
  std::string kind = f.one_of("kind", {"predict", "diagnose", "fix"});
  it.kind = kind == "predict" ? Kind::predict : kind == "diagnose" ? Kind::diagnose : Kind::fix;
  it.go = f.str("go");
  if (it.go != "1.19") f.fail("go", "\"" + it.go + "\": the bank's Go is 1.19");

  if (!f.has("tags")) f.fail("tags", "missing");
  Fields tags(file, f.raw("tags"), "tags", {"concepts", "defect"});
  it.concepts = tags.strings("concepts", 1);
  it.defect = tags.str("defect");

  it.irt_b = it.level - 3;
  if (f.has("irt")) {
    Fields irt(file, f.raw("irt"), "irt", {"a", "b"});
    it.irt_a = irt.number("a");
    it.irt_b = irt.number("b");
    if (it.irt_a <= 0) irt.fail("a", "must be positive");
    it.irt_declared = true;
  }
  if (f.has("time_limit_s")) it.time_limit_s = f.integer("time_limit_s", 1, 24 * 3600);
  if (f.has("source")) it.source = f.str("source");

  it.show = f.strings("show", 0, false);
  for (std::size_t i = 0; i < it.show.size(); ++i) {
    fs::path rel(it.show[i]);
    std::string field = "show[" + std::to_string(i) + "]";
    if (!is_inside(rel) || is_secret_path(rel))
      f.fail(field, "must be a file of the item outside hidden/, solution/ and wrong/");
    if (it.kind == Kind::fix && *rel.begin() != "start")
      f.fail(field, "a fix item shows files of start/");
    if (!fs::is_regular_file(dir / rel)) f.fail(field, it.show[i] + " does not exist");
  }

  const char* sections[] = {"predict", "diagnose", "fix"};
  for (const char* s : sections)
    if (f.has(s) != (kind == s))
      f.fail(s, kind == s ? "missing for kind \"" + kind + "\"" : "not allowed for kind \"" + kind + "\"");
  switch (it.kind) {
    case Kind::predict: it.predict = load_predict(f, dir); break;
    case Kind::diagnose: it.diagnose = load_diagnose(f, dir); break;
    case Kind::fix: it.fix = load_fix(f, dir); break;
  }

  fs::path statement = dir / "statement.md";
  if (!fs::is_regular_file(statement) || read_text(statement).find_first_not_of(" \t\r\n") == std::string::npos)
    throw BankError(statement, "", "missing or empty: every item has a statement");

  Fnv h;
  for (const auto& [name, content] : read_files(dir)) {
    h.add(name);
    h.add(content);
  }
  it.content_hash = h.hex();
  return it;
}

fs::path bank_library(const Item& item) {
  std::error_code ec;
  fs::path lib = fs::canonical(item.dir.parent_path().parent_path() / "_lib", ec);
  return ec ? fs::path() : lib;
}

const Item* Bank::find(std::string_view id) const {
  for (const Item& it : items)
    if (it.id == id) return &it;
  return nullptr;
}

std::vector<const Item*> Bank::in_dimension(std::string_view dimension) const {
  std::vector<const Item*> out;
  for (const Item& it : items)
    if (dimension.empty() || it.dimension == dimension) out.push_back(&it);
  return out;
}

Bank load_bank(const fs::path& root) {
  if (!fs::is_directory(root)) throw BankError(root, "", "the question bank directory does not exist");
  Bank bank;
  std::vector<fs::path> dirs;
  for (const char* dim : kDimensions) {
    if (!fs::is_directory(root / dim)) continue;
    for (const auto& e : fs::directory_iterator(root / dim))
      if (e.is_directory()) dirs.push_back(e.path());
  }
  std::sort(dirs.begin(), dirs.end());
  std::map<std::string, fs::path> ids;
  for (const fs::path& d : dirs) {
    try {
      Item it = load_item(d);
      auto [at, fresh] = ids.emplace(it.id, d);
      if (!fresh) {
        bank.errors.emplace_back(d / "item.json", "id", "\"" + it.id + "\" is also the id of " + at->second.string());
        continue;
      }
      bank.items.push_back(std::move(it));
    } catch (const BankError& e) {
      bank.errors.push_back(e);
    } catch (const fs::filesystem_error& e) {
      bank.errors.emplace_back(d, "", e.what());
    }
  }
  return bank;
}

CandidateView candidate_view(const Item& item, std::string artifact) {
  CandidateView v;
  v.id = item.id;
  v.version = item.version;
  v.title = item.title;
  v.dimension = item.dimension;
  v.level = item.level;
  v.kind = item.kind;
  v.time_limit_s = item.time_limit_s;
  v.statement = read_text(item.dir / "statement.md");
  v.choices = item.choices();
  // load_item has checked every "show" path: inside the item, outside hidden/solution/wrong.
  for (const std::string& rel : item.show) {
    std::string name = item.kind == Kind::fix ? fs::path(rel).lexically_relative("start").generic_string() : rel;
    v.files.emplace_back(name, read_text(item.dir / rel));
  }
  switch (item.kind) {
    case Kind::predict: v.answer = to_string(item.predict->answer); break;
    case Kind::diagnose:
      v.answer = "choice";
      v.artifact = std::move(artifact);
      break;
    case Kind::fix:
      v.answer = "files";
      v.editable = item.fix->editable;
      // The candidate works on all of start/: the files "show" did not list follow.
      for (auto& [name, content] : read_files(item.dir / "start"))
        if (std::none_of(v.files.begin(), v.files.end(), [&](const auto& f) { return f.first == name; }))
          v.files.emplace_back(name, std::move(content));
      break;
  }
  return v;
}

}  // namespace assess

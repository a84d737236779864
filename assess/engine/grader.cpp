#include "engine/grader.hpp"

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <stdexcept>

#include <gocxx/runtime.hpp>

#include "engine/extract.hpp"
#include "engine/lab.hpp"

namespace assess {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t kMaxOutputChars = 500;     // Exercism: a test's "output"
constexpr std::size_t kMaxMessageChars = 2000;
constexpr std::size_t kMaxEvidenceChars = 4000;  // assess.pressure.evidence: the goroutine summary
constexpr std::size_t kMaxAnswerFileBytes = 1u << 20;

void write_file(const fs::path& p, const std::string& content) {
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << content;
  if (!out.flush()) throw std::runtime_error("cannot write " + p.string());
}

// A run's own GOCACHE over a snapshot: real directories (Go adds entries there), and a symlink
// for each of the snapshot's files. The snapshot is mounted read-only in the sandbox, so a run
// can read its entries but not change them, and what it adds stays in its own directories.
// (Hard links would not do: the sandbox hands its writable paths to the run's user.)
void link_gocache(const fs::path& snapshot, const fs::path& own) {
  fs::create_directories(own);
  for (const auto& e : fs::recursive_directory_iterator(snapshot)) {
    fs::path to = own / e.path().lexically_relative(snapshot);
    if (e.is_directory()) fs::create_directory(to);
    else if (e.is_regular_file()) fs::create_symlink(e.path(), to);
  }
}

// A grading's private directories (see grader.hpp), removed with everything in them.
class Scratch {
 public:
  explicit Scratch(const GoConfig& config) {
    fs::create_directories(config.scratch_base);
    std::string tmpl = (config.scratch_base / "assess-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp in " + config.scratch_base.string() + " failed");
    root = tmpl;
    item = root / "gopath" / "src" / "item";
    tmp = root / "tmp";
    try {
      fs::create_directories(item);
      fs::create_directories(tmp);
      switch (config.cache) {
        case GoCache::shared:
          gocache = config.gocache;
          break;
        case GoCache::seeded:
          gocache = root / "gocache";
          link_gocache(config.gocache, gocache);
          break;
        case GoCache::fresh:
          gocache = root / "gocache";
          fs::create_directories(gocache);
          break;
      }
    } catch (...) {
      std::error_code ec;
      fs::remove_all(root, ec);  // no destructor runs for a half-made Scratch
      throw;
    }
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(root, ec);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;

  fs::path root, item, tmp, gocache;
};

void put_files(const fs::path& dir, const Files& files) {
  for (const auto& [name, content] : files) write_file(dir / name, content);
}

// The program of a predict or diagnose item: the files directly in its directory, but item.json
// and statement.md.
Files program_files(const Item& item) {
  Files out = read_files(item.dir);
  std::erase_if(out, [](const auto& f) {
    return f.first.find('/') != std::string::npos || f.first == "item.json" || f.first == "statement.md";
  });
  return out;
}

bool needs_cgo(const Files& files) {
  return std::any_of(files.begin(), files.end(), [](const auto& f) {
    return f.second.find("\"C\"") != std::string::npos ||
           f.second.find("\"github.com/mattn/go-sqlite3\"") != std::string::npos;
  });
}

class GoRunner {
 public:
  // library: the bank's Go packages (bank_library), or empty.
  GoRunner(const GoConfig& config, const Scratch& scratch, bool cgo, fs::path library = {})
      : config_(config), scratch_(scratch), cgo_(cgo), library_(std::move(library)) {}

  sandbox::Outcome run(std::vector<std::string> argv, std::chrono::milliseconds wall,
                       std::vector<std::pair<std::string, std::string>> extra_env = {}) {
    sandbox::Spec spec;
    spec.argv = std::move(argv);
    spec.workdir = scratch_.item;
    spec.env = {
        {"GO111MODULE", "off"},
        {"GOPATH", (scratch_.root / "gopath").string() + ":" + (library_.empty() ? "" : library_.string() + ":") +
                       config_.go_libraries.string()},
        {"GOCACHE", scratch_.gocache.string()},
        {"GOPROXY", "off"},
        {"GOENV", "off"},  // no go/env file from HOME
        // Go 1.19 on linux/amd64: "-race requires cgo", so race runs have it too.
        {"CGO_ENABLED", cgo_ ? "1" : "0"},
        {"TMPDIR", scratch_.tmp.string()},
    };
    for (auto& e : extra_env) spec.env.push_back(std::move(e));
    spec.read_only = {config_.go_libraries};
    if (!library_.empty()) spec.read_only.push_back(library_);
    spec.read_only.insert(spec.read_only.end(), mounts.begin(), mounts.end());
    if (config_.cache == GoCache::seeded) spec.read_only.push_back(config_.gocache);
    spec.writable = {scratch_.tmp, scratch_.gocache};
    spec.limits.wall = wall;
    spec.limits.cpu = std::max<std::chrono::milliseconds>(wall * 2, 20s);
    spec.limits.max_processes = 512;  // go build runs a compiler per package, each with threads
    spec.limits.memory_bytes = std::size_t{2} << 30;
    sandbox::Outcome out = gocxx::blocking([&] { return sandbox::run(spec); });
    out.stdout_data = rewrite_paths(std::move(out.stdout_data), scratch_.root);
    out.stderr_data = rewrite_paths(std::move(out.stderr_data), scratch_.root);
    out.message = rewrite_paths(std::move(out.message), scratch_.root);
    last.status = sandbox::to_string(out.status);
    last.wall = out.wall;
    last.isolation = out.isolation;
    return out;
  }

  // go build of the package into <tmp>/prog; "" or why it failed.
  std::string build_program(bool race) {
    std::vector<std::string> argv = {"go", "build"};
    if (race) argv.push_back("-race");
    argv.insert(argv.end(), {"-o", program().string(), "."});
    sandbox::Outcome out = run(argv, config_.build_wall);
    if (out.ok()) return {};
    return failure("go build", out);
  }

  sandbox::Outcome run_program(std::vector<std::pair<std::string, std::string>> env = {}) {
    return run({program().string()}, config_.program_wall, std::move(env));
  }

  fs::path program() const { return scratch_.tmp / "prog"; }

  std::vector<fs::path> mounts;  // more read-only paths (a lab's gocxx-pressure)

  static std::string failure(const std::string& what, const sandbox::Outcome& out) {
    if (out.status != sandbox::Status::exited) return what + ": " + out.message;
    return what + " failed: " + clip(out.stderr_data + out.stdout_data, kMaxMessageChars);
  }

  RunInfo last;

 private:
  const GoConfig& config_;
  const Scratch& scratch_;
  bool cgo_;
  fs::path library_;
};

bool limit_hit(const sandbox::Outcome& o) {
  return o.status != sandbox::Status::exited && o.status != sandbox::Status::signaled;
}

std::string normalized_stdout(const std::string& out) {
  std::vector<std::string> lines = split_lines(out);
  for (std::string& l : lines) l.erase(l.find_last_not_of(" \t\r") + 1);
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  std::string s;
  for (const std::string& l : lines) s += (s.empty() ? "" : "\n") + l;
  return s;
}

std::optional<long long> last_line_integer(const std::string& outcome) {
  std::vector<std::string> lines = split_lines(outcome);
  if (lines.empty()) return std::nullopt;
  std::string last = collapse_space(lines.back());
  try {
    std::size_t used = 0;
    long long n = std::stoll(last, &used);
    if (used == last.size()) return n;
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

std::optional<std::size_t> matching_choice(const std::vector<std::string>& choices, const std::string& outcome,
                                           std::string& problem) {
  std::vector<std::size_t> hits;
  for (std::size_t i = 0; i < choices.size(); ++i)
    if (collapse_space(choices[i]) == collapse_space(outcome)) hits.push_back(i);
  if (hits.size() == 1) return hits[0];
  problem = hits.empty() ? "no choice matches Go's outcome \"" + clip(outcome, 200) + "\""
                         : "two choices match Go's outcome \"" + clip(outcome, 200) + "\"";
  return std::nullopt;
}

// `go vet -json` output: "# item" lines, then {"item": {"<analyzer>": [...]}} per package.
std::vector<std::string> vet_analyzers(const std::string& output) {
  std::set<std::string> names;
  std::string body;
  for (const std::string& line : split_lines(output))
    if (!line.starts_with("#")) body += line + "\n";
  try {
    std::istringstream in(body);
    while (in >> std::ws, in.peek() != EOF) {
      json j;
      in >> j;
      for (const auto& [pkg, analyzers] : j.items())
        for (const auto& [name, diags] : analyzers.items()) names.insert(name);
    }
  } catch (const json::exception&) {
  }
  return {names.begin(), names.end()};
}

json results_json(const Item& item, const std::string& status, const std::string& message, json tests,
                  bool correct, const std::string& verdict, const RunInfo& run) {
  json r = {{"version", 3}, {"status", status}};
  if (!message.empty()) r["message"] = clip(message, kMaxMessageChars);
  r["tests"] = std::move(tests);
  r["assess"] = {{"item", item.id},     {"item_version", item.version}, {"kind", to_string(item.kind)},
                 {"correct", correct},  {"verdict", verdict},           {"sandbox", run.to_json()}};
  return r;
}

json test_entry(const std::string& name, bool pass, const std::string& message, const std::string& output = {}) {
  json t = {{"name", name}, {"status", pass ? "pass" : "fail"}};
  if (!message.empty()) t["message"] = clip(message, kMaxMessageChars);
  if (!output.empty()) t["output"] = clip(output, kMaxOutputChars);
  return t;
}

// What a `go tool test2json` run of the test binary said.
struct TestRun {
  struct Test {
    std::string name;
    std::string action = "run";  // pass | fail | skip, once finished
    std::string output;
  };
  std::vector<Test> tests;
  std::string package_output;  // output outside any test (TestMain, goleak, a crash)
  std::string all_output;
  bool package_failed = false;
};

TestRun parse_test2json(const std::string& stdout_data) {
  TestRun r;
  for (const std::string& line : split_lines(stdout_data)) {
    json e = json::parse(line, nullptr, false);
    if (e.is_discarded() || !e.is_object()) {
      r.package_output += line + "\n";  // not JSON: the binary's own stdout/stderr noise
      r.all_output += line + "\n";
      continue;
    }
    std::string action = e.value("Action", "");
    std::string test = e.value("Test", "");
    std::string output = e.value("Output", "");
    r.all_output += output;
    if (test.empty()) {
      if (action == "output") r.package_output += output;
      if (action == "fail") r.package_failed = true;
      continue;
    }
    auto it = std::find_if(r.tests.begin(), r.tests.end(), [&](const TestRun::Test& t) { return t.name == test; });
    if (it == r.tests.end()) it = r.tests.insert(r.tests.end(), TestRun::Test{test, "run", ""});
    if (action == "output") it->output += output;
    // A test run several times (-test.count, -test.cpu) failed if any run failed.
    if ((action == "pass" || action == "fail" || action == "skip") && it->action != "fail") it->action = action;
  }
  return r;
}

// From the line containing `marker` on, clipped: the part of a long output worth showing.
std::string excerpt(const std::string& text, std::string_view marker) {
  std::size_t at = text.find(marker);
  if (at == std::string::npos) return {};
  at = text.rfind('\n', at);
  return clip(text.substr(at == std::string::npos ? 0 : at + 1), kMaxOutputChars);
}

bool has_check(const FixSpec& fix, std::string_view check) {
  return std::find(fix.checks.begin(), fix.checks.end(), check) != fix.checks.end();
}

}  // namespace

fs::path default_scratch_base() {
  std::error_code ec;
  if (fs::is_directory("/dev/shm", ec) && ::access("/dev/shm", W_OK | X_OK) == 0) return "/dev/shm";
  return fs::temp_directory_path();
}

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> out;
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::string clip(std::string s, std::size_t n) {
  if (s.size() <= n) return s;
  std::size_t cut = n - 3;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  s.resize(cut);
  return s + "...";
}

std::string rewrite_paths(std::string text, const fs::path& scratch) {
  auto replace_all = [&](const std::string& from, const std::string& to) {
    if (from.empty()) return;
    for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
      text.replace(at, from.size(), to);
  };
  std::string root = scratch.string();
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  replace_all(root + "/gopath/src/item/", "/item/");
  replace_all(root + "/", "/scratch/");
  return text;
}

std::string predict_outcome(const sandbox::Outcome& run) {
  if (run.status == sandbox::Status::signaled) return "signal " + std::to_string(run.signal);
  if (run.status != sandbox::Status::exited) return {};
  if (run.exit_code == 0) return normalized_stdout(run.stdout_data);
  std::vector<std::string> lines = split_lines(run.stderr_data);
  for (std::string& l : lines) l.erase(l.find_last_not_of(" \t\r") + 1);
  if (run.exit_code == 2) {
    if (std::find(lines.begin(), lines.end(), "fatal error: all goroutines are asleep - deadlock!") != lines.end())
      return "deadlock";
    // The runtime's report comes last; the program may have printed "panic: " lines itself.
    for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
      if (!it->starts_with("panic: ")) continue;
      std::string p = *it;
      static constexpr std::string_view recovered = " [recovered]";
      if (p.ends_with(recovered)) p.resize(p.size() - recovered.size());
      return p;
    }
    for (const std::string& l : lines)
      if (l.starts_with("fatal error: ")) return l;
  }
  return "exit " + std::to_string(run.exit_code);
}

Answer Answer::from_json(const json& j) {
  static constexpr const char* forms = "an answer is one of {\"choice\": N}, {\"text\": \"...\"}, {\"files\": {...}}";
  if (!j.is_object() || j.size() != 1) throw std::invalid_argument(forms);
  Answer a;
  if (j.contains("choice")) {
    if (!j["choice"].is_number_unsigned()) throw std::invalid_argument("answer.choice: must be an index from 0");
    a.choice = j["choice"].get<std::size_t>();
  } else if (j.contains("text")) {
    if (!j["text"].is_string()) throw std::invalid_argument("answer.text: must be a string");
    a.text = j["text"].get<std::string>();
  } else if (j.contains("files")) {
    if (!j["files"].is_object()) throw std::invalid_argument("answer.files: must be an object: name -> content");
    for (const auto& [name, content] : j["files"].items()) {
      if (!content.is_string()) throw std::invalid_argument("answer.files." + name + ": must be a string");
      a.files[name] = content.get<std::string>();
    }
  } else {
    throw std::invalid_argument(forms);
  }
  return a;
}

json RunInfo::to_json() const {
  if (status == "none") return nullptr;
  return {{"status", status}, {"wall_ms", wall.count()}, {"isolation", isolation}};
}

json Oracle::to_json() const {
  json j = {{"outcome", outcome}, {"shows", shows}, {"problem", problem}, {"run", run.to_json()}};
  if (!vet_analyzers.empty()) j["vet_analyzers"] = vet_analyzers;
  j["choice"] = choice ? json(*choice) : json(nullptr);
  return j;
}

Oracle Oracle::from_json(const json& j) {
  Oracle o;
  o.outcome = j.at("outcome").get<std::string>();
  o.shows = j.value("shows", "");
  o.problem = j.value("problem", "");
  if (j.contains("vet_analyzers")) o.vet_analyzers = j["vet_analyzers"].get<std::vector<std::string>>();
  if (j.contains("choice") && !j["choice"].is_null()) o.choice = j["choice"].get<std::size_t>();
  if (j.contains("run") && j["run"].is_object()) {
    o.run.status = j["run"].value("status", "none");
    o.run.wall = std::chrono::milliseconds(j["run"].value("wall_ms", 0));
    o.run.isolation = j["run"].value("isolation", std::vector<std::string>{});
  }
  return o;
}

OracleCache::OracleCache(fs::path dir) : dir_(std::move(dir)) {}

fs::path OracleCache::path(const Item& item, const std::string& go_version) const {
  return dir_ / (item.id + "@" + std::to_string(item.version) + "-" + item.content_hash + "-" + go_version + ".json");
}

std::optional<Oracle> OracleCache::load(const Item& item, const std::string& go_version) const {
  std::ifstream in(path(item, go_version));
  if (!in) return std::nullopt;
  json j = json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  try {
    Oracle o = Oracle::from_json(j);
    if (!o.problem.empty()) return std::nullopt;
    return o;
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

void OracleCache::store(const Item& item, const std::string& go_version, const Oracle& oracle) const {
  if (!oracle.problem.empty()) return;
  fs::create_directories(dir_);
  fs::path final_path = path(item, go_version);
  // Readers (a `take` beside a bank check) see the old file or the new one, never half of one.
  std::string t = final_path.string() + ".tmp-XXXXXX";
  int fd = ::mkstemp(t.data());
  if (fd < 0) throw std::runtime_error("cannot create a file in " + dir_.string());
  ::close(fd);
  write_file(t, oracle.to_json().dump(2) + "\n");
  fs::rename(t, final_path);
}

Grader::Grader(GoConfig config, std::optional<OracleCache> cache)
    : config_(std::move(config)), cache_(std::move(cache)) {
  // The sandbox takes absolute paths only; GOPATH and GOCACHE must be absolute for Go too.
  config_.scratch_base = fs::absolute(config_.scratch_base);
  if (!config_.gocache.empty()) config_.gocache = fs::absolute(config_.gocache);
  config_.go_libraries = fs::absolute(config_.go_libraries);
  if (config_.cache == GoCache::shared) fs::create_directories(config_.gocache);
  if (config_.cache == GoCache::seeded && !fs::is_directory(config_.gocache))
    throw std::invalid_argument("GoCache::seeded: no GOCACHE snapshot at " + config_.gocache.string() +
                                " (make one with snapshot_gocache)");
}

const std::string& Grader::go_version() {
  std::call_once(version_once_, [&] {
    Scratch scratch(config_);
    GoRunner go(config_, scratch, false);
    sandbox::Outcome out = go.run({"go", "env", "GOVERSION"}, config_.build_wall);
    go_version_ = collapse_space(out.stdout_data);
    if (!out.ok() || go_version_.empty())
      throw std::runtime_error("cannot run Go: " + GoRunner::failure("go env GOVERSION", out));
  });
  return go_version_;
}

Oracle Grader::oracle(const Item& item) {
  if (cache_)
    if (std::optional<Oracle> o = cache_->load(item, go_version())) return *o;
  Oracle o = compute_oracle(item);
  if (cache_) cache_->store(item, go_version(), o);
  return o;
}

namespace {

Oracle predict_oracle(const Item& item, const GoConfig& config, int runs) {
  const PredictSpec& p = *item.predict;
  Oracle o;
  Scratch scratch(config);
  Files files = program_files(item);
  put_files(scratch.item, files);
  GoRunner go(config, scratch, p.cgo || needs_cgo(files), bank_library(item));
  o.problem = go.build_program(false);
  for (int i = 0; i < runs && o.problem.empty(); ++i) {
    sandbox::Outcome out = go.run_program();
    std::string outcome = predict_outcome(out);
    if (limit_hit(out)) o.problem = "the program did not finish: " + out.message;
    else if (i > 0 && outcome != o.outcome)
      o.problem = "nondeterministic: run 1 gave \"" + clip(o.outcome, 200) + "\", run " + std::to_string(i + 1) +
                  " gave \"" + clip(outcome, 200) + "\"";
    o.outcome = outcome;
  }
  o.run = go.last;
  if (!o.problem.empty()) return o;
  if (p.answer == PredictSpec::Answer::choice) o.choice = matching_choice(p.choices, o.outcome, o.problem);
  if (p.answer == PredictSpec::Answer::number && !last_line_integer(o.outcome))
    o.problem = "the outcome's last line is not an integer: \"" + clip(o.outcome, 200) + "\"";
  return o;
}

// One production of a diagnose item's artifact, in a fresh scratch directory.
extract::Artifact produce_artifact(const Item& item, const GoConfig& config, std::string& problem, RunInfo& run) {
  const DiagnoseSpec& d = *item.diagnose;
  extract::Artifact art;
  Scratch scratch(config);
  Files files = program_files(item);
  put_files(scratch.item, files);
  GoRunner go(config, scratch, d.cgo || needs_cgo(files) || d.artifact == "race", bank_library(item));
  struct Last {  // whichever way this returns, the last run is reported
    GoRunner& go;
    RunInfo& run;
    ~Last() { run = go.last; }
  } last{go, run};
  if (d.artifact == "gcflags_m") {
    sandbox::Outcome out = go.run({"go", "build", "-gcflags=-m", "-o", "/dev/null", "."}, config.build_wall);
    if (!out.ok()) problem = GoRunner::failure("go build -gcflags=-m", out);
    art.text = out.stderr_data;
    return art;
  }
  if (d.artifact == "vet") {
    sandbox::Outcome out = go.run({"go", "vet", "."}, config.build_wall);
    if (limit_hit(out)) problem = "go vet: " + out.message;
    art.text = out.stderr_data + out.stdout_data;
    sandbox::Outcome js = go.run({"go", "vet", "-json", "."}, config.build_wall);
    art.vet_analyzers = vet_analyzers(js.stderr_data + js.stdout_data);
    return art;
  }
  problem = go.build_program(d.artifact == "race");
  if (!problem.empty()) return art;
  std::vector<std::pair<std::string, std::string>> env;
  if (d.artifact == "gctrace") env.emplace_back("GODEBUG", "gctrace=1");
  sandbox::Outcome out = go.run_program(env);
  if (limit_hit(out)) problem = "the program did not finish: " + out.message;
  if (d.artifact == "run") {
    art.text = out.stdout_data;
  } else if (d.artifact == "gctrace") {
    for (const std::string& line : split_lines(out.stderr_data))
      if (line.starts_with("gc ")) art.text += line + "\n";
  } else {
    art.text = out.stderr_data;  // run_stderr, race
  }
  return art;
}

Oracle diagnose_oracle(const Item& item, const GoConfig& config, int runs) {
  Oracle o;
  for (int i = 0; i < runs; ++i) {
    std::string problem;
    extract::Artifact art = produce_artifact(item, config, problem, o.run);
    if (!problem.empty()) {
      o.problem = problem;
      return o;
    }
    extract::Key k = extract::key(*item.diagnose, art);
    if (!k.problem.empty()) {
      o.problem = k.problem;
      return o;
    }
    if (i == 0) {
      o.outcome = std::move(art.text);
      o.vet_analyzers = std::move(art.vet_analyzers);
      o.choice = k.choice;
      o.shows = k.shows;
    } else if (k.choice != o.choice) {
      o.problem = "nondeterministic: run 1 showed " + o.shows + ", run " + std::to_string(i + 1) + " showed " + k.shows;
      return o;
    }
    // gcflags_m and vet read the code, not a run: one production says it all.
    if (item.diagnose->artifact == "gcflags_m" || item.diagnose->artifact == "vet") break;
  }
  return o;
}

using Env = std::vector<std::pair<std::string, std::string>>;
// One run of a fix item's test binary through test2json: flags, -test.timeout, environment.
using TestRunner = std::function<sandbox::Outcome(std::vector<std::string> flags, int timeout_s, Env env)>;

std::string percent(double rate) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g%%", rate * 100);
  return buf;
}

// What assess/pressure says when a drill fails: the message on the line with "pressure: "
// (after the test's "file_test.go:NN: "), and as the text the lines indented under it, dedented.
struct Evidence {
  std::string message, text;
};

Evidence pressure_evidence(const std::string& output) {
  Evidence e;
  std::size_t at = output.find(": pressure: ");
  if (at == std::string::npos) return e;
  std::vector<std::string> lines = split_lines(output.substr(at + 2));
  e.message = lines[0].substr(std::string_view("pressure: ").size());
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    if (l.empty() || (l[0] != ' ' && l[0] != '\t')) break;
    std::size_t indent = std::min(l.find_first_not_of(' '), std::min<std::size_t>(8, l.size()));
    e.text += (e.text.empty() ? "" : "\n") + l.substr(indent);
  }
  return e;
}

// The `pressure` check of a submission that passed every other check: the test binary once
// more, under the drill's flags and the grader's faults. Sets r.pressure, and r.verdict to
// "pressure" (with the evidence) when it fails, "error" when the sandbox failed.
void pressure_check(const Item& item, const Pressure& p, bool race, GoRunner& go, const TestRunner& test_run,
                    FixResult& r) {
  const PressureSpec& spec = *item.fix->pressure;
  std::vector<std::string> flags = {"-test.count=" + std::to_string(spec.count)};
  std::string cpu;
  for (int c : spec.cpu) cpu += (cpu.empty() ? "" : ",") + std::to_string(c);
  if (!cpu.empty()) flags.push_back("-test.cpu=" + cpu);
  if (!spec.run.empty()) flags.push_back("-test.run=" + spec.run);
  char rate[32];
  std::snprintf(rate, sizeof rate, "%g", p.rate);
  Env env = {{"ASSESS_PRESSURE", "1"},
             {"ASSESS_PRESSURE_SEED", std::to_string(p.seed)},
             {"ASSESS_PRESSURE_RATE", rate},
             {"ASSESS_PRESSURE_MAX_GOROUTINES", std::to_string(spec.max_goroutines)}};
  env.insert(env.end(), spec.env.begin(), spec.env.end());
  sandbox::Outcome out = test_run(flags, spec.timeout_s, env);
  r.run = go.last;
  if (out.status == sandbox::Status::internal_error) {
    r.verdict = "error";
    r.message = "sandbox: " + out.message;
    return;
  }
  TestRun tr = parse_test2json(out.stdout_data);
  std::string all = tr.all_output + out.stderr_data;
  std::vector<std::string> failed;
  for (const TestRun::Test& t : tr.tests)
    if (t.action != "pass" && t.action != "skip") failed.push_back(t.name);

  std::string under = "under pressure (" + percent(p.rate) + " faults, seed " + std::to_string(p.seed) + "): ";
  std::string why, shown;
  Evidence evidence = pressure_evidence(all);
  if (race && all.find("WARNING: DATA RACE") != std::string::npos) {
    why = under + "the race detector reports a data race";
    shown = excerpt(all, "WARNING: DATA RACE");
  } else if (has_check(*item.fix, "leak") && all.find("found unexpected goroutines") != std::string::npos) {
    why = under + "goroutines leak (goleak: found unexpected goroutines)";
    shown = excerpt(all, "found unexpected goroutines");
  } else if (!evidence.message.empty()) {
    why = evidence.message;
    shown = evidence.text;
  } else if (limit_hit(out)) {
    why = under + out.message;
    shown = clip(tr.package_output + out.stderr_data, kMaxEvidenceChars);
  } else if (all.find("panic: test timed out") != std::string::npos) {
    why = under + "the tests did not finish within " + std::to_string(spec.timeout_s) + " s";
    shown = excerpt(all, "panic: test timed out");
  } else if (!failed.empty()) {
    why = under + "tests fail: " + failed.front();
    auto test = std::find_if(tr.tests.begin(), tr.tests.end(),
                             [&](const TestRun::Test& t) { return t.name == failed.front(); });
    shown = test->output;
  } else if (tr.package_failed || !out.ok()) {
    why = under + "the test binary failed";
    shown = clip(tr.package_output + out.stderr_data, kMaxEvidenceChars);
  }
  r.pressure = {{"seed", p.seed},       {"rate", p.rate},   {"count", spec.count},
                {"cpu", spec.cpu},       {"run", spec.run},  {"passed", why.empty()},
                {"failed_tests", failed}, {"wall_ms", out.wall.count()}};
  if (why.empty()) {
    r.tests.push_back(test_entry("pressure", true, ""));
    return;
  }
  r.pressure["message"] = clip(why, kMaxMessageChars);
  if (!shown.empty()) r.pressure["evidence"] = clip(shown, kMaxEvidenceChars);
  r.verdict = "pressure";
  r.message = "fails at pressure: " + why;
  r.failed_tests = std::move(failed);
  r.tests.push_back(test_entry("pressure", false, why, shown));
}

// The lab (engine/lab.hpp) of a submission that passed every other check: its service under
// gocxx-pressure, in pressure mode and outside it. Sets r.lab, and r.verdict to "lab" when a
// lab check fails, "error" when the lab could not run.
void lab_check(const LabSpec& spec, const Pressure& p, const GoConfig& config, GoRunner& go, const Scratch& scratch,
               FixResult& r) {
  go.mounts = {config.pressure_tool};
  lab::Outcome o = lab::run(spec, {.dir = scratch.tmp, .tool = config.pressure_tool, .seed = p.seed, .rate = p.rate,
                                   .scratch = scratch.root, .build_wall = config.build_wall,
                                   .run = [&](std::vector<std::string> argv, std::chrono::milliseconds wall, lab::Env env) {
                                     return go.run(std::move(argv), wall, std::move(env));
                                   }});
  r.run = go.last;
  r.lab = std::move(o.lab);
  if (o.verdict == "pass") {
    r.tests.push_back(test_entry("lab", true, ""));
    return;
  }
  r.verdict = o.verdict;
  r.message = o.verdict == "error" ? "the lab could not run: " + o.message : "fails at lab: " + clip(o.message, kMaxMessageChars);
  if (o.verdict == "lab") r.tests.push_back(test_entry("lab", false, clip(o.message, kMaxMessageChars), r.lab.value("report", "")));
}

}  // namespace

Oracle Grader::compute_oracle(const Item& item, int runs) {
  switch (item.kind) {
    case Kind::predict: return predict_oracle(item, config_, runs > 0 ? runs : item.predict->runs);
    case Kind::diagnose: return diagnose_oracle(item, config_, runs > 0 ? runs : 1);
    case Kind::fix: break;
  }
  throw std::invalid_argument("a fix item has no oracle: " + item.id);
}

FixResult Grader::run_fix(const Item& item, const Files& replacement, const Pressure& pressure) {
  const FixSpec& fix = *item.fix;
  FixResult r;
  Scratch scratch(config_);
  put_files(scratch.item, read_files(item.dir / "start"));
  put_files(scratch.item, replacement);
  Files hidden = read_files(item.dir / "hidden");
  put_files(scratch.item, hidden);

  bool race = has_check(fix, "race");
  GoRunner go(config_, scratch, fix.cgo || race, bank_library(item));
  auto fail = [&](const std::string& check, const std::string& message, const std::string& output) {
    r.verdict = check;
    r.message = "fails at " + check + ": " + message;
    r.tests.push_back(test_entry(check, false, message, output));
    r.run = go.last;
    return r;
  };
  auto error = [&](const std::string& message) {
    r.verdict = "error";
    r.message = message;
    r.run = go.last;
    return r;
  };

  // build: the package with its tests (start/'s and hidden/'s), into a test binary that the
  // test run executes after hidden/ is gone, so a submission cannot read the hidden source.
  bool has_tests = std::any_of(fs::directory_iterator(scratch.item), fs::directory_iterator{},
                               [](const fs::directory_entry& e) { return e.path().filename().string().ends_with("_test.go"); });
  fs::path test_binary = scratch.tmp / "item.test";
  std::vector<std::string> build = {"go", "test", "-c", "-vet=off", "-o", test_binary.string(), "."};
  if (race) build.insert(build.begin() + 3, "-race");
  if (!has_tests) build = fix.package == "main" ? std::vector<std::string>{"go", "build", "-o", "/dev/null", "."}
                                                : std::vector<std::string>{"go", "build", "."};
  sandbox::Outcome out = go.run(build, config_.build_wall);
  if (out.status == sandbox::Status::internal_error) return error("sandbox: " + out.message);
  if (!out.ok())
    return fail("build", limit_hit(out) ? out.message : "does not compile", out.stderr_data + out.stdout_data);
  if (has_check(fix, "build")) r.tests.push_back(test_entry("build", true, ""));

  if (has_check(fix, "vet")) {
    out = go.run({"go", "vet", "."}, config_.build_wall);
    if (out.status == sandbox::Status::internal_error) return error("sandbox: " + out.message);
    std::string said = out.stderr_data + out.stdout_data;
    if (!out.ok() || said.find_first_not_of(" \n") != std::string::npos)
      return fail("vet", limit_hit(out) ? out.message : "go vet reports a problem", said);
    r.tests.push_back(test_entry("vet", true, ""));
  }

  bool under_pressure = pressure.on && fix.pressure;
  bool run_tests = has_check(fix, "race") || has_check(fix, "leak") || has_check(fix, "test");
  if (!run_tests || !has_tests) {
    if (run_tests || under_pressure)
      return error("the item has race/leak/test checks or a pressure drill but no tests");
    r.verdict = "pass";
    r.run = go.last;
    return r;
  }
  for (const auto& [name, content] : hidden) fs::remove(scratch.item / name);
  TestRunner test_run = [&](std::vector<std::string> flags, int timeout_s, Env env) {
    std::vector<std::string> argv = {"go", "tool", "test2json", "-t", test_binary.string(), "-test.v",
                                     "-test.paniconexit0", "-test.timeout=" + std::to_string(timeout_s) + "s"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    return go.run(argv, config_.build_wall + std::chrono::seconds(timeout_s), std::move(env));
  };
  out = test_run({"-test.count=1"}, fix.test_timeout_s, {});
  if (out.status == sandbox::Status::internal_error) return error("sandbox: " + out.message);
  TestRun tr = parse_test2json(out.stdout_data);
  std::string all = tr.all_output + out.stderr_data;

  if (race && all.find("WARNING: DATA RACE") != std::string::npos)
    return fail("race", "the race detector reports a data race", excerpt(all, "WARNING: DATA RACE"));
  if (race) r.tests.push_back(test_entry("race", true, ""));
  if (has_check(fix, "leak")) {
    if (all.find("found unexpected goroutines") != std::string::npos)
      return fail("leak", "goroutines leak (goleak: found unexpected goroutines)",
                  excerpt(all, "found unexpected goroutines"));
    r.tests.push_back(test_entry("leak", true, ""));
  }
  for (const TestRun::Test& t : tr.tests) {
    if (t.action == "skip") continue;
    bool pass = t.action == "pass";
    if (!pass) r.failed_tests.push_back(t.name);
    r.tests.push_back(test_entry(t.name, pass, pass ? "" : t.action == "fail" ? "failed" : "did not finish", t.output));
  }
  bool failed = !r.failed_tests.empty() || tr.package_failed || !out.ok();
  if (failed) {
    std::string why = limit_hit(out)                ? out.message
                      : !r.failed_tests.empty()     ? "tests fail: " + r.failed_tests.front()
                                                    : "the test binary failed";
    r.verdict = "test";
    r.message = "fails at test: " + why;
    if (r.failed_tests.empty()) r.tests.push_back(test_entry("test", false, why, clip(tr.package_output + out.stderr_data, kMaxOutputChars)));
    r.run = go.last;
    return r;
  }
  r.verdict = "pass";
  r.run = go.last;
  if (under_pressure) pressure_check(item, pressure, race, go, test_run, r);
  if (r.verdict == "pass" && fix.lab) lab_check(*fix.lab, pressure, config_, go, scratch, r);
  return r;
}

json Grader::grade(const Item& item, const Answer& answer, const Pressure& pressure) {
  try {
    if (item.kind == Kind::fix) {
      const FixSpec& fix = *item.fix;
      for (const auto& [name, content] : answer.files) {
        if (std::find(fix.editable.begin(), fix.editable.end(), name) == fix.editable.end())
          return results_json(item, "fail", name + " is not one of the editable files", json::array(), false,
                              "answer", {});
        if (content.size() > kMaxAnswerFileBytes)
          return results_json(item, "fail", name + " is larger than 1 MiB", json::array(), false, "answer", {});
      }
      FixResult r = run_fix(item, answer.files, pressure);
      if (r.verdict == "error") return results_json(item, "error", r.message, r.tests, false, "error", r.run);
      bool pass = r.verdict == "pass";
      json results = results_json(item, pass ? "pass" : "fail", pass ? "all checks pass" : r.message, r.tests, pass,
                                  r.verdict, r.run);
      if (!r.pressure.is_null()) results["assess"]["pressure"] = std::move(r.pressure);
      if (!r.lab.is_null()) results["assess"]["lab"] = std::move(r.lab);
      return results;
    }

    Oracle o = oracle(item);
    if (!o.problem.empty())
      return results_json(item, "error", "broken item: " + o.problem, json::array(), false, "error", o.run);
    const std::vector<std::string>& choices = item.choices();
    bool by_choice = item.kind == Kind::diagnose || item.predict->answer == PredictSpec::Answer::choice;
    std::string expected = by_choice ? choices[*o.choice] : o.outcome;
    std::string given;
    bool correct = false;
    if (by_choice) {
      std::optional<std::size_t> pick = answer.choice;
      if (!pick) {
        for (std::size_t i = 0; i < choices.size(); ++i)
          if (collapse_space(choices[i]) == collapse_space(answer.text)) pick = i;
      }
      if (!pick || *pick >= choices.size())
        return results_json(item, "fail", "the answer is not one of the choices", json::array(), false, "answer", o.run);
      given = choices[*pick];
      correct = *pick == *o.choice;
    } else if (item.predict->answer == PredictSpec::Answer::number) {
      given = collapse_space(answer.text);
      expected = std::to_string(*last_line_integer(o.outcome));
      correct = last_line_integer(given) == last_line_integer(o.outcome);
    } else {
      given = answer.text;
      correct = collapse_space(given) == collapse_space(o.outcome);
    }
    std::string message = correct ? "correct" : "expected \"" + clip(expected, 400) + "\"";
    json tests = json::array({test_entry("answer", correct, correct ? "" : message, clip(given, kMaxOutputChars))});
    return results_json(item, correct ? "pass" : "fail", message, tests, correct, correct ? "pass" : "answer", o.run);
  } catch (const std::exception& e) {
    return results_json(item, "error", std::string("the grader failed: ") + e.what(), json::array(), false, "error", {});
  }
}

void snapshot_gocache(const fs::path& from, const fs::path& to) {
  fs::path from_abs = fs::absolute(from), to_abs = fs::absolute(to);
  fs::path fresh = to_abs;
  fresh += ".new";
  fs::path old = to_abs;
  old += ".old";
  std::error_code ec;
  fs::remove_all(fresh, ec);
  fs::remove_all(old, ec);
  fs::copy(from_abs, fresh, fs::copy_options::recursive);
  // Read-only for everyone: the mount is the protection, the modes say the same.
  for (const auto& e : fs::recursive_directory_iterator(fresh)) {
    if (e.is_regular_file()) fs::permissions(e.path(), fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  }
  if (fs::exists(to_abs)) fs::rename(to_abs, old);
  fs::rename(fresh, to_abs);
  fs::remove_all(old, ec);
}

}  // namespace assess

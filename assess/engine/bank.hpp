// The question bank: load and validate assess/bank/<dimension>/<NN-slug>/item.json into
// assess::Item, and the candidate's view of an item.
//
//   assess::Bank bank = assess::load_bank(GOCXX_ASSESS_BANK);   // never throws for bad items
//   for (const assess::BankError& e : bank.errors) std::cerr << e.what() << '\n';
//   const assess::Item* item = bank.find("select-default-spin");
//   assess::CandidateView view = assess::candidate_view(*item, artifact_text);
//   std::cout << view.statement;   // statement.md, the shown files, the choices: nothing else
//
// The item format is the assessment spec's (item.json with exactly one of predict / diagnose /
// fix; statement.md; the program's *.go; for fix items start/, hidden/, solution/, wrong/<name>/
// with expect.json). Every violation is a BankError naming the file and the field
// ("assess/bank/concurrency/03-x/item.json: predict.runs: must be an integer from 1 to 10").
//
// Item (with its directory) is the grader's type: it reaches hidden/, solution/ and wrong/.
// CandidateView is the only type a front end shows a candidate: it is built from statement.md,
// the files item.json "show" names (validated to lie outside hidden/, solution/ and wrong/),
// fix items' start/ files and the diagnose artifact, and holds no path, so nothing secret can
// reach a candidate through it.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace assess {

inline constexpr const char* kDimensions[] = {"concurrency", "memory", "robustness", "ecosystem"};

enum class Kind { predict, diagnose, fix };
const char* to_string(Kind);

struct PredictSpec {
  enum class Answer { choice, output, number };
  Answer answer = Answer::choice;
  std::vector<std::string> choices;  // answer == choice
  int runs = 3;                      // the oracle's runs; every one must give the same outcome
  std::string of;                    // answer == number: what the number counts ("goroutines")
  bool cgo = false;                  // CGO_ENABLED=1 (sqlite); also implied by importing "C" or go-sqlite3
};
const char* to_string(PredictSpec::Answer);

struct DiagnoseSpec {
  std::string artifact;  // run | run_stderr | gcflags_m | gctrace | vet | race
  std::string extract;   // leak_function | wait_reason | moved_to_heap | race_function | vet_analyzer | evidence
  std::vector<std::string> choices;
  std::map<std::string, std::string> evidence;  // extract == evidence: choice -> ECMAScript regex
  bool cgo = false;                             // as PredictSpec::cgo (race artifacts have it anyway)
};

struct WrongSolution {
  std::string name;  // the directory under wrong/
  std::string fails; // the check it must fail at: build, vet, race, leak, test, test:TestName, pressure or lab
  std::string why;   // the defect, one line
  std::string shows; // fails == "pressure" or "lab" only, optional: text the check's message must contain
};

// A fix item's pressure drill (item.json fix.pressure; seed ch. 5: "under pressure, inject 10%
// network jitter, watch goroutine growth"). Graded under pressure, a submission that passes
// the item's checks runs its tests once more, as the `pressure` check: the same test binary,
// with ASSESS_PRESSURE=1, the seed, the fault rate and max_goroutines in the environment, so
// the hidden tests written with the bank's Go package assess/pressure (<bank>/_lib) inject
// faults, drive load and watch the goroutines.
struct PressureSpec {
  std::string run;           // -test.run: the tests to run again ("" = all of them)
  int count = 1;             // -test.count
  std::vector<int> cpu;      // -test.cpu (GOMAXPROCS values); empty: the default
  int max_goroutines = 5000; // ASSESS_PRESSURE_MAX_GOROUTINES: pressure.Watch's bound
  int timeout_s = 60;        // -test.timeout of the pressure run
  std::map<std::string, std::string> env;  // more environment for the pressure run
};

// A fix item's lab (item.json fix.lab; seed ch. 5's pressure mode, on a whole service): a
// submission that passes the item's checks is built as a service (package main, started as
// `./service 127.0.0.1:PORT`, serving through the bank's Go package assess/lab) and run in the
// sandbox under gocxx-pressure: the fault-injecting proxy (the grader's rate as jitter),
// open-loop load, the goroutine count sampled, > threshold or steady growth -> leak analysis
// and the trace report; then graceful shutdown. Graded on its behaviour (engine/lab.hpp):
// leak, latency, shutdown, and the heap and fact bounds below.
struct LabFact {
  std::string check;  // the lab check it belongs to: leak | latency | shutdown | heap | consistency
  std::string fact;   // a number in the service's /lab/facts JSON
  std::optional<double> min, max;
  std::string says;   // what a value out of bounds means ("upstream calls still running")
};

struct LabSpec {
  std::string path = "/";        // the URL path the load requests
  double rate = 50;              // requests per second
  int duration_s = 10;           // of load
  std::string faults;            // more gocxx::net::Faults besides the jitter ("reset=1%")
  int latency_p99_ms = 1000;     // the latency check's bound on p99 ...
  double max_failed_percent = 1; // ... and on failed requests
  int leak_slack = 20;           // goroutines after the load may exceed the baseline by this much
  int threshold = 5000;          // gocxx-pressure --threshold
  double growth = 0;             // gocxx-pressure --growth (goroutines/s); 0: off
  int shutdown_s = 10;           // SIGTERM to exit 0, at most
  int shutdown_requests = 4;     // /lab/slow requests in flight at SIGTERM
  std::optional<int> max_gcs;    // heap check: GC cycles in the service's gctrace ...
  std::optional<double> max_heap_mb;  // ... and the largest heap a cycle started at
  std::vector<LabFact> facts;
  std::map<std::string, std::string> env;  // more environment for the service
};
inline constexpr const char* kLabChecks[] = {"leak", "latency", "shutdown", "heap", "consistency"};

struct FixSpec {
  std::string package;                // Go package name of start/ ("main" or e.g. "item")
  std::vector<std::string> editable;  // file names in start/ the candidate may replace
  std::vector<std::string> checks;    // subset of kChecks, in that order
  int test_timeout_s = 20;
  bool cgo = false;
  std::optional<PressureSpec> pressure;  // a drill: at least one wrong solution fails at "pressure"
  std::optional<LabSpec> lab;            // a lab: at least one wrong solution fails at "lab"
  std::vector<WrongSolution> wrong;   // sorted by name
};
inline constexpr const char* kChecks[] = {"build", "vet", "race", "leak", "test"};

struct Item {
  std::filesystem::path dir;  // the item's directory
  std::string id;
  int version = 1;
  std::string title;
  std::string dimension;
  int level = 1;
  Kind kind = Kind::predict;
  std::string go;  // "1.19"
  std::vector<std::string> concepts;
  std::string defect;
  double irt_a = 1.0;
  double irt_b = 0.0;
  bool irt_declared = false;  // false: a = 1, b = level - 3
  std::optional<int> time_limit_s;
  std::vector<std::string> show;  // relative to dir
  std::string source;             // optional attribution ("adapted from ...")
  std::optional<PredictSpec> predict;
  std::optional<DiagnoseSpec> diagnose;
  std::optional<FixSpec> fix;
  std::string content_hash;  // 16 hex digits over every file of dir (names and contents)

  // The choices of a predict "choice" or diagnose item; empty otherwise.
  const std::vector<std::string>& choices() const;
};

// A malformed item: what() is "<file>: <field>: <problem>" (field empty for file-level problems).
class BankError : public std::runtime_error {
 public:
  BankError(std::filesystem::path file, std::string field, const std::string& problem);
  const std::filesystem::path& file() const { return file_; }
  const std::string& field() const { return field_; }

 private:
  std::filesystem::path file_;
  std::string field_;
};

// Loads and validates one item directory. Throws BankError.
Item load_item(const std::filesystem::path& dir);

// The Go packages the bank ships for its items' tests (assess/pressure): <bank>/_lib, a
// GOPATH entry, canonical (the sandbox mounts it at that path); empty when the bank has none.
std::filesystem::path bank_library(const Item& item);

struct Bank {
  std::vector<Item> items;          // sorted by dimension, then directory name
  std::vector<BankError> errors;    // one per malformed item (and per duplicated id)
  const Item* find(std::string_view id) const;
  std::vector<const Item*> in_dimension(std::string_view dimension) const;  // "" = all
};

// Loads every <root>/<dimension>/<NN-slug>/ (files directly under root, such as rules.json,
// and directories that are not dimensions are someone else's). Throws BankError only when root
// itself is missing.
Bank load_bank(const std::filesystem::path& root);

// The item's program files (predict and diagnose: the *.go directly in dir; fix: start/'s
// files, then the candidate's or a solution's files, then hidden/'s), relative name -> content.
using Files = std::map<std::string, std::string>;
Files read_files(const std::filesystem::path& dir);  // regular files, recursively, sorted

// What a candidate is shown for an item. No paths, no hidden/solution/wrong content.
struct CandidateView {
  std::string id;
  int version = 1;
  std::string title;
  std::string dimension;
  int level = 1;
  Kind kind = Kind::predict;
  std::string statement;  // statement.md
  std::vector<std::pair<std::string, std::string>> files;  // shown: name -> content, in "show" order
  std::string answer;     // "choice", "output", "number", "files"
  std::vector<std::string> choices;
  std::vector<std::string> editable;  // fix: the files the candidate may change
  std::string artifact;   // diagnose: the artifact the key is read from
  std::optional<int> time_limit_s;
};
CandidateView candidate_view(const Item& item, std::string artifact = {});

// Whitespace runs collapsed to one space, trimmed: how answers and outcomes are compared.
std::string collapse_space(std::string_view s);

}  // namespace assess

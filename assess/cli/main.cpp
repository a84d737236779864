// assess: the Go concurrency capability assessment's command line.
//
//   assess bank list [--dimension D]                     the items, one per line
//   assess bank check [--item ID] [--jobs N] [--json]    every oracle against Go 1.19
//   assess take [--dimension D]... [--pressure] [--candidate H] [--resume SESSION] ...   take an assessment
//   assess report SESSION [--json]                       the seed's results table and the item path
//   assess calibrate [--min-responses N] [--dry-run]     re-estimate item parameters (EM)
//   assess serve [--listen 127.0.0.1:8080] [--public]    the web application (interviewers, candidates)
//   assess checklist --target URL --source DIR [--log FILE] ...   a service against the production checklist
//
// Results live in an SQLite database: --db FILE (default $ASSESS_DB, else ./assess.db).
// Every command takes --bank DIR (the question bank; default $ASSESS_BANK, else the source
// tree's assess/bank); those that run Go take --cache DIR (oracles, artifacts and the warm
// GOCACHE; default $ASSESS_CACHE, else assess-cache in the build tree). Exit status: 0 success, 1 the command
// found problems (broken items), 2 bad usage.
//
// A command is one function taking Args plus one line in kCommands.
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <gocxx/runtime.hpp>

#include "engine/bank.hpp"
#include "engine/bank_check.hpp"
#include "engine/calibrate.hpp"
#include "engine/cat.hpp"
#include "engine/grader.hpp"
#include "engine/report.hpp"
#include "engine/session.hpp"
#include "checklist.hpp"
#include "serve.hpp"
#include "take.hpp"

namespace fs = std::filesystem;

namespace {

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The command's options: "--name value" and "--flag"; anything not taken is an error.
class Args {
 public:
  explicit Args(std::vector<std::string> args) : args_(std::move(args)) {}

  std::optional<std::string> value(std::string_view name) {
    for (std::size_t i = 0; i < args_.size(); ++i) {
      if (args_[i] != name) continue;
      if (i + 1 >= args_.size()) throw UsageError(std::string(name) + " needs a value");
      std::string v = args_[i + 1];
      args_.erase(args_.begin() + static_cast<long>(i), args_.begin() + static_cast<long>(i) + 2);
      return v;
    }
    return std::nullopt;
  }

  bool flag(std::string_view name) {
    for (std::size_t i = 0; i < args_.size(); ++i)
      if (args_[i] == name) {
        args_.erase(args_.begin() + static_cast<long>(i));
        return true;
      }
    return false;
  }

  int integer(std::string_view name, int def) {
    std::optional<std::string> v = value(name);
    if (!v) return def;
    try {
      std::size_t used = 0;
      int n = std::stoi(*v, &used);
      if (used == v->size() && n >= 0) return n;
    } catch (const std::exception&) {
    }
    throw UsageError(std::string(name) + " needs a non-negative integer, not \"" + *v + "\"");
  }

  // The first argument left that is not an option; call after taking the options.
  std::optional<std::string> positional() {
    for (std::size_t i = 0; i < args_.size(); ++i) {
      if (args_[i].starts_with("--")) continue;
      std::string v = args_[i];
      args_.erase(args_.begin() + static_cast<long>(i));
      return v;
    }
    return std::nullopt;
  }

  // Call after taking every option the command knows.
  void done() const {
    if (!args_.empty()) throw UsageError("unexpected argument \"" + args_.front() + "\"");
  }

  // Asked twice by some commands (the items, then rules.json): the first answer holds.
  fs::path bank() {
    if (!bank_) {
      const char* env = std::getenv("ASSESS_BANK");
      bank_ = value("--bank").value_or(env ? env : GOCXX_ASSESS_BANK);
    }
    return *bank_;
  }

  fs::path db() {
    if (auto v = value("--db")) return *v;
    if (const char* env = std::getenv("ASSESS_DB")) return env;
    return "assess.db";
  }

  fs::path cache() {
    if (auto v = value("--cache")) return *v;
    if (const char* env = std::getenv("ASSESS_CACHE")) return env;
    return ASSESS_DEFAULT_CACHE;
  }

 private:
  std::vector<std::string> args_;
  std::optional<fs::path> bank_;
};

assess::Bank load(Args& args) {
  assess::Bank bank = assess::load_bank(args.bank());
  for (const assess::BankError& e : bank.errors) std::cerr << "assess: " << e.what() << "\n";
  return bank;
}

// The bank's rules.json, checked against its items before anything runs: a rule that names an
// item or concept the bank lacks would otherwise stop a session halfway.
assess::rules::RuleSet load_rules(const fs::path& root, const assess::Bank& bank) {
  const fs::path path = root / "rules.json";
  assess::rules::RuleSet rules = assess::rules::RuleSet::load(path);
  const std::vector<std::string> problems = assess::cat::check_rules(rules, bank);
  if (!problems.empty()) {
    std::string message = path.string() + " does not fit the bank:";
    for (const std::string& p : problems) message += "\n  " + p;
    throw std::invalid_argument(message);
  }
  return rules;
}

int bank_list(Args& args) {
  std::optional<std::string> dimension = args.value("--dimension");
  assess::Bank bank = load(args);
  args.done();
  if (dimension && std::none_of(std::begin(assess::kDimensions), std::end(assess::kDimensions),
                                [&](const char* d) { return *dimension == d; }))
    throw UsageError("--dimension: \"" + *dimension + "\" is not one of concurrency, memory, robustness, ecosystem");
  std::vector<const assess::Item*> items = bank.in_dimension(dimension.value_or(""));
  for (const assess::Item* it : items)
    std::cout << std::left << std::setw(34) << it->id << " " << std::setw(11) << it->dimension << " L" << it->level
              << "  " << std::setw(8) << assess::to_string(it->kind) << "  " << it->title << "\n";
  std::cout << items.size() << " items\n";
  return bank.errors.empty() ? 0 : 1;
}

int bank_check(Args& args) {
  assess::CheckOptions options;
  options.item = args.value("--item").value_or("");
  options.jobs = args.integer("--jobs", 0);
  bool json = args.flag("--json");
  fs::path cache = args.cache(), root = args.bank();
  assess::Bank bank = load(args);
  args.done();
  load_rules(root, bank);  // the adaptive rules are part of the bank
  // The bank's own code is trusted: one GOCACHE for every run keeps the check fast.
  assess::Grader grader({.cache = assess::GoCache::shared, .gocache = cache / "gocache"},
                        assess::OracleCache(cache / "oracles"));
  assess::CheckReport report;
  // Evidence regexes run in goroutines, and std::regex recurses per character matched: give
  // the goroutines room (stacks are committed lazily).
  gocxx::Options run_options;
  run_options.stack_size = 8u << 20;
  gocxx::run([&] { report = assess::check_bank(bank, grader, options); }, run_options);
  if (json) std::cout << report.to_json().dump(2) << "\n";
  else std::cout << report.text();
  return report.ok() ? 0 : 1;
}

int take(Args& args) {
  assess::cli::TakeOptions o;
  const char* user = std::getenv("USER");
  o.candidate = args.value("--candidate").value_or(user && *user ? user : "candidate");
  o.name = args.value("--name").value_or("");
  while (std::optional<std::string> d = args.value("--dimension")) o.config.dimensions.push_back(*d);
  o.config.max_items = args.integer("--max-items", 12);
  o.config.seed = static_cast<std::uint64_t>(args.integer("--seed", 0));
  o.config.pressure = args.flag("--pressure");  // drills graded under seeded faults (engine/session.hpp)
  if (std::optional<std::string> r = args.value("--resume")) {
    try {
      o.resume = std::stoll(*r);
    } catch (const std::exception&) {
      throw UsageError("--resume needs a session number, not \"" + *r + "\"");
    }
  }
  o.work_dir = args.value("--work").value_or((fs::current_path() / "assess-work").string());
  fs::path cache = args.cache(), db = args.db(), root = args.bank();
  assess::Bank bank = load(args);
  args.done();
  assess::rules::RuleSet rules = load_rules(root, bank);
  auto store = assess::open_sqlite_store(db);
  assess::Grader grader = assess::cli::candidate_grader(cache);
  int status = 0;
  gocxx::run([&] {
    status = assess::cli::take(o, {bank, rules, grader, *store}, std::cin, std::cout);
  });
  return status;
}

int report(Args& args) {
  bool json = args.flag("--json");
  fs::path db = args.db(), root = args.bank();
  assess::Bank bank = load(args);
  std::optional<std::string> id = args.positional();
  args.done();
  if (!id) throw UsageError("which session? assess report N");
  assess::SessionId session = 0;
  try {
    session = std::stoll(*id);
  } catch (const std::exception&) {
    throw UsageError("not a session number: \"" + *id + "\"");
  }
  auto store = assess::open_sqlite_store(db);
  assess::Report r = assess::make_report(store->load_session(session), bank,
                                         load_rules(root, bank),
                                         store->load_item_params());
  if (json) std::cout << assess::to_json(r).dump(2) << "\n";
  else std::cout << assess::to_text(r);
  return 0;
}

// Each dimension is calibrated on its own: its items, the sessions' answers to them (for the
// bank's current version of each item), the declared parameters as the starting point.
int calibrate(Args& args) {
  assess::irt::CalibrationConfig config;
  config.min_responses = static_cast<std::size_t>(args.integer("--min-responses", 200));
  bool dry_run = args.flag("--dry-run");
  fs::path db = args.db();
  assess::Bank bank = load(args);
  args.done();
  auto store = assess::open_sqlite_store(db);
  std::vector<assess::CalibrationResponse> responses = store->calibration_responses();
  std::vector<assess::ItemParams> saved;
  for (const char* dimension : assess::kDimensions) {
    std::vector<const assess::Item*> items = bank.in_dimension(dimension);
    std::vector<assess::irt::ItemParams> declared;
    for (const assess::Item* it : items) {
      declared.push_back(it->irt_declared ? assess::irt::ItemParams{it->irt_a, it->irt_b}
                                          : assess::irt::ItemParams{1.0, it->level - 3.0});
    }
    std::vector<assess::irt::Observation> data;
    for (const assess::CalibrationResponse& r : responses) {
      for (std::size_t i = 0; i < items.size(); ++i) {
        if (items[i]->id == r.item && items[i]->version == r.item_version) {
          data.push_back({static_cast<std::size_t>(r.session), i, r.correct});
        }
      }
    }
    assess::irt::Calibration c = assess::irt::calibrate(declared, data, config);
    int estimated = 0;
    for (std::size_t i = 0; i < items.size(); ++i) {
      const assess::irt::ItemCalibration& ic = c.items[i];
      if (ic.fit != assess::irt::Fit::estimated) continue;
      ++estimated;
      std::cout << std::left << std::setw(34) << items[i]->id << " a " << std::setprecision(3)
                << ic.params.a << " ± " << ic.se_a << "  b " << ic.params.b << " ± " << ic.se_b
                << "  (" << ic.responses << " answers)\n";
      saved.push_back({.item = items[i]->id, .item_version = items[i]->version, .a = ic.params.a,
                       .b = ic.params.b, .se_a = ic.se_a, .se_b = ic.se_b,
                       .source = assess::ItemParams::Source::calibrated,
                       .n = static_cast<int>(ic.responses), .updated_at = {}});
    }
    std::cout << dimension << ": " << data.size() << " answers, " << estimated << " of "
              << items.size() << " items estimated (at least " << config.min_responses
              << " answers needed), " << c.iterations << " EM cycles"
              << (c.converged || estimated == 0 ? "" : ", NOT converged") << "\n";
  }
  if (!dry_run && !saved.empty()) store->save_item_params(saved);
  std::cout << (dry_run ? "dry run: nothing saved\n"
                        : std::to_string(saved.size()) + " item parameters saved\n");
  return 0;
}

int checklist(Args& args) {
  assess::cli::ChecklistArgs a;
  assess::checklist::Options& o = a.options;
  o.target = args.value("--target").value_or("");
  o.source = args.value("--source").value_or("");
  if (o.target.empty() || o.source.empty()) throw UsageError("checklist needs --target URL and --source DIR");
  if (auto v = args.value("--log")) o.log = *v;
  std::string lang = args.value("--lang").value_or("go");
  if (lang != "go" && lang != "gocxx") throw UsageError("--lang is go or gocxx, not \"" + lang + "\"");
  o.lang = lang == "go" ? assess::checklist::Lang::go : assess::checklist::Lang::gocxx;
  o.slow_path = args.value("--slow-path");
  o.probe_path = args.value("--probe-path").value_or("/");
  o.trace_seconds = args.integer("--trace-seconds", 2);
  if (auto v = args.value("--json")) a.json = *v;
  if (auto v = args.value("--markdown")) a.markdown = *v;
  o.cache = args.cache() / "checklist";
  a.db = args.db();
  args.done();
  try {
    return assess::cli::checklist(a);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
}

int serve(Args& args) {
  assess::cli::ServeOptions o{.listen = args.value("--listen").value_or("127.0.0.1:8080"),
                              .public_bind = args.flag("--public"),
                              .new_token = args.flag("--new-token"),
                              .db = args.db(),
                              .bank = args.bank(),
                              .cache = args.cache()};
  args.done();
  return assess::cli::serve(o);
}

struct Command {
  std::vector<std::string_view> words;
  const char* usage;
  int (*run)(Args&);
};

const Command kCommands[] = {
    {{"bank", "list"}, "[--dimension D]", bank_list},
    {{"bank", "check"}, "[--item ID] [--jobs N] [--json]", bank_check},
    {{"take"}, "[--dimension D]... [--candidate HANDLE] [--name NAME] [--max-items N] [--seed N] [--pressure] [--resume SESSION] [--work DIR] [--db FILE]", take},
    {{"report"}, "SESSION [--json] [--db FILE]", report},
    {{"calibrate"}, "[--min-responses N] [--dry-run] [--db FILE]", calibrate},
    {{"serve"}, "[--listen HOST:PORT] [--public] [--new-token] [--db FILE] [--cache DIR]", serve},
    {{"checklist"}, "--target URL --source DIR [--log FILE] [--lang go|gocxx] [--slow-path PATH] [--probe-path PATH] [--trace-seconds N] [--json FILE] [--markdown FILE] [--db FILE]", checklist},
};

void usage(std::ostream& out) {
  out << "usage:\n";
  for (const Command& c : kCommands) {
    out << "  assess";
    for (std::string_view w : c.words) out << " " << w;
    out << " " << c.usage << "\n";
  }
  out << "every command takes --bank DIR; those that run Go take --cache DIR\n";
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
    usage(args.empty() ? std::cerr : std::cout);
    return args.empty() ? 2 : 0;
  }
  for (const Command& c : kCommands) {
    if (args.size() < c.words.size() || !std::equal(c.words.begin(), c.words.end(), args.begin())) continue;
    Args rest(std::vector<std::string>(args.begin() + static_cast<long>(c.words.size()), args.end()));
    try {
      return c.run(rest);
    } catch (const UsageError& e) {
      std::cerr << "assess: " << e.what() << "\n";
      usage(std::cerr);
      return 2;
    } catch (const std::exception& e) {
      std::cerr << "assess: " << e.what() << "\n";
      return 1;
    }
  }
  std::cerr << "assess: unknown command\n";
  usage(std::cerr);
  return 2;
}

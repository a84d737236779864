#include "engine/bank_check.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <sstream>

#include <gocxx/errgroup.hpp>
#include <gocxx/runtime.hpp>

namespace assess {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string quote(const std::string& s) {
  std::string q = collapse_space(s);
  if (q.size() > 60) q = q.substr(0, 57) + "...";
  return "\"" + q + "\"";
}

void check_oracle(const Item& item, Grader& grader, ItemCheck& c) {
  // Diagnose artifacts are produced twice, so a flaky extraction shows up here, not in a session.
  Oracle o = grader.compute_oracle(item, item.kind == Kind::diagnose ? 2 : 0);
  if (!o.problem.empty()) {
    c.problems.push_back(o.problem);
    return;
  }
  if (item.kind == Kind::predict) {
    std::string runs = std::to_string(item.predict->runs) + " runs";
    if (o.choice)
      c.notes.push_back("key: " + quote(item.predict->choices[*o.choice]) + " (choice " + std::to_string(*o.choice + 1) +
                        ", " + runs + ")");
    else
      c.notes.push_back("outcome: " + quote(o.outcome) + " (" + runs + ")");
  } else {
    c.notes.push_back("key: " + quote(item.diagnose->choices[*o.choice]) + " (" + o.shows + ")");
  }
  if (auto* cache = grader.cache()) cache->store(item, grader.go_version(), o);
}

void check_fix(const Item& item, Grader& grader, ItemCheck& c) {
  // A drill's solutions are all graded under pressure (with the grader's default seed and
  // rate): the reference must pass the drill too, and a wrong solution that fails at an
  // earlier check never gets to it.
  Pressure pressure{.on = item.fix->pressure.has_value()};
  FixResult ref = grader.run_fix(item, read_files(item.dir / "solution"), pressure);
  if (ref.verdict == "error") c.problems.push_back("solution/ could not be graded: " + ref.message);
  else if (ref.verdict != "pass") c.problems.push_back("solution/ " + ref.message);
  else if (pressure.on)
    c.notes.push_back("solution/ passes, also under pressure (" + std::to_string(ref.pressure.value("wall_ms", 0)) +
                      " ms)");
  else if (ref.lab.is_object()) {
    std::string figures;  // how far the reference is from the lab's bounds
    for (const auto& check : ref.lab["checks"]) figures += "; " + check.value("name", "") + ": " + check.value("detail", "");
    c.notes.push_back("solution/ passes, its lab too (" + std::to_string(ref.lab.value("wall_ms", 0)) + " ms" + figures + ")");
  }
  else c.notes.push_back("solution/ passes");
  for (const WrongSolution& w : item.fix->wrong) {
    Files files = read_files(item.dir / "wrong" / w.name);
    files.erase("expect.json");
    FixResult r = grader.run_fix(item, files, pressure);
    std::string who = "wrong/" + w.name + "/";
    bool test_named = w.fails.starts_with("test:");
    std::string check = test_named ? "test" : w.fails;
    bool as_stated = r.verdict == check &&
                     (!test_named || std::find(r.failed_tests.begin(), r.failed_tests.end(), w.fails.substr(5)) !=
                                         r.failed_tests.end());
    if (as_stated && r.message.find(w.shows) == std::string::npos) {
      c.problems.push_back(who + " fails at " + w.fails + ", but not showing \"" + w.shows + "\" as expect.json says: " +
                           r.message);
    } else if (as_stated) {
      c.notes.push_back(who + " fails at " + w.fails +
                        (check == "pressure" ? ": " + r.pressure.value("message", std::string())
                         : check == "lab"    ? r.message.substr(r.message.find(':'))
                                             : ""));
    } else if (r.verdict == "pass") {
      c.problems.push_back(who + " passes every check; expect.json says it fails at " + w.fails);
    } else if (r.verdict == "error") {
      c.problems.push_back(who + " could not be graded: " + r.message);
    } else {
      std::string at = r.verdict;
      if (r.verdict == "test" && !r.failed_tests.empty()) {
        at += " (";
        for (std::size_t i = 0; i < r.failed_tests.size(); ++i) at += (i ? ", " : "") + r.failed_tests[i];
        at += ")";
      }
      c.problems.push_back(who + " fails at " + at + ", not at " + w.fails + " as expect.json says: " + r.message);
    }
  }
}

}  // namespace

ItemCheck check_item(const Item& item, Grader& grader) {
  ItemCheck c;
  c.id = item.id;
  c.path = item.dimension + "/" + item.dir.filename().string();
  c.kind = to_string(item.kind);
  auto start = std::chrono::steady_clock::now();
  try {
    if (item.kind == Kind::fix) check_fix(item, grader, c);
    else check_oracle(item, grader, c);
  } catch (const std::exception& e) {
    c.problems.push_back(std::string("the check failed: ") + e.what());
  }
  c.ok = c.problems.empty();
  c.wall = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  return c;
}

std::vector<std::string> coverage_problems(const Bank& bank) {
  std::vector<std::string> out;
  if (bank.items.size() < 100)
    out.push_back("the bank has " + std::to_string(bank.items.size()) + " items; it needs at least 100");
  for (const char* dim : kDimensions) {
    std::vector<const Item*> items = bank.in_dimension(dim);
    if (items.size() < 20)
      out.push_back(std::string(dim) + " has " + std::to_string(items.size()) + " items; it needs at least 20");
    for (int level = 1; level <= 5; ++level)
      if (std::none_of(items.begin(), items.end(), [&](const Item* i) { return i->level == level; }))
        out.push_back(std::string(dim) + " has no item at level " + std::to_string(level));
  }
  return out;
}

CheckReport check_bank(const Bank& bank, Grader& grader, const CheckOptions& options) {
  CheckReport report;
  auto start = std::chrono::steady_clock::now();
  for (const BankError& e : bank.errors) report.errors.push_back(e.what());
  std::vector<const Item*> todo;
  for (const Item& it : bank.items)
    if (options.item.empty() || it.id == options.item) todo.push_back(&it);
  if (!options.item.empty() && todo.empty()) report.errors.push_back("no item with id \"" + options.item + "\"");
  if (options.item.empty()) report.coverage = coverage_problems(bank);

  report.items.resize(todo.size());
  gocxx::errgroup::Group g;
  g.set_limit(options.jobs > 0 ? options.jobs : gocxx::procs());
  for (std::size_t i = 0; i < todo.size(); ++i) {
    g.go([&, i]() -> gocxx::error {
      report.items[i] = check_item(*todo[i], grader);
      return nullptr;
    });
  }
  (void)g.wait();  // every check returns nil: what went wrong is in its ItemCheck
  report.wall = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  return report;
}

bool CheckReport::ok() const {
  return errors.empty() && coverage.empty() &&
         std::all_of(items.begin(), items.end(), [](const ItemCheck& c) { return c.ok; });
}

std::string CheckReport::text() const {
  std::ostringstream out;
  char secs[32];
  std::size_t broken = 0;
  for (const ItemCheck& c : items) {
    std::snprintf(secs, sizeof secs, "%5.1fs", static_cast<double>(c.wall.count()) / 1000);
    out << (c.ok ? "ok    " : "FAIL  ") << secs << "  " << c.path << "  " << c.kind;
    if (c.ok && !c.notes.empty()) out << "  " << c.notes.front();
    out << "\n";
    if (!c.ok) {
      ++broken;
      for (const std::string& p : c.problems) out << "        - " << p << "\n";
    }
  }
  for (const std::string& e : errors) out << "ERROR " << e << "\n";
  for (const std::string& p : coverage) out << "BANK  " << p << "\n";
  std::map<std::string, int> kinds;
  for (const ItemCheck& c : items) ++kinds[c.kind];
  std::snprintf(secs, sizeof secs, "%.1f s", static_cast<double>(wall.count()) / 1000);
  out << (ok() ? "PASS" : "FAIL") << ": " << items.size() << " items checked (";
  bool first = true;
  for (const auto& [k, n] : kinds) {
    out << (first ? "" : ", ") << n << " " << k;
    first = false;
  }
  out << "), " << broken << " broken, " << errors.size() << " malformed, in " << secs << "\n";
  return out.str();
}

json CheckReport::to_json() const {
  json items_json = json::array();
  for (const ItemCheck& c : items)
    items_json.push_back({{"id", c.id}, {"path", c.path}, {"kind", c.kind}, {"ok", c.ok}, {"problems", c.problems},
                          {"notes", c.notes}, {"wall_ms", c.wall.count()}});
  return {{"ok", ok()}, {"items", items_json}, {"errors", errors}, {"coverage", coverage}, {"wall_ms", wall.count()}};
}

}  // namespace assess

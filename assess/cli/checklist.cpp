// `assess checklist`: runs the production checklist (assess/checklist) and writes its report:
// text on stdout, --json / --markdown files for CI, and a run in the results database (--db),
// which `assess serve` shows interviewers at /i/checklists. Exit status: 0 every item passes or
// is not applicable, 1 an item fails, 2 the target does not answer (bad usage is main's 2).
#include "checklist.hpp"

#include <ctime>
#include <fstream>
#include <iostream>

#include "engine/store.hpp"

namespace assess::cli {
namespace {

void write(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out.flush()) throw std::runtime_error("cannot write " + path.string());
}

// The report's "2024-05-01T12:00:00Z" (checklist::Report::checked_at).
Time parse_rfc3339(const std::string& s) {
  std::tm tm{};
  const char* end = ::strptime(s.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (!end || *end) throw std::logic_error("checklist report: checked_at \"" + s + "\" is not RFC 3339 UTC");
  return Time(std::chrono::seconds(::timegm(&tm)));
}

}  // namespace

int checklist(const ChecklistArgs& a) {
  checklist::Report r;
  try {
    r = checklist::run_checklist(a.options);
  } catch (const checklist::Unreachable& e) {
    std::cerr << "assess checklist: " << e.what() << "\n";
    return 2;
  }
  std::cout << checklist::to_text(r);
  if (a.json) write(*a.json, checklist::to_json(r).dump(2) + "\n");
  if (a.markdown) write(*a.markdown, checklist::to_markdown(r));
  ChecklistRun run = open_sqlite_store(a.db)->save_checklist_run({.id = 0,
                                                                  .target = r.target,
                                                                  .lang = checklist::to_string(r.lang),
                                                                  .checked_at = parse_rfc3339(r.checked_at),
                                                                  .report_json = checklist::to_json(r).dump()});
  std::cout << "saved as checklist run " << run.id << " in " << a.db.string() << " (assess serve: /i/checklists/"
            << run.id << ")\n";
  return r.exit_status();
}

}  // namespace assess::cli

// `assess take`: an assessment in the terminal, one item at a time.
//
// Reads answers line by line from stdin, so it works in a terminal and under a script (the
// test drives it through a pty, tools/assess-demo through a pipe). Fix items are edited as
// files: the editable files are written to a work directory, the candidate edits them (with
// $EDITOR when they type "e", or any editor), then presses Enter to submit. "q" leaves; the
// session stays resumable.
#include "take.hpp"

#include <fcntl.h>  // AT_FDCWD
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <system_error>

#include <gocxx/runtime.hpp>

#include "engine/report.hpp"

namespace fs = std::filesystem;

namespace assess::cli {

namespace {

struct Quit {};  // the candidate typed q, or stdin ended

// One line of input; reading blocks the thread, so the runtime gets it out of the way. A line
// read from a pipe or a file is echoed (a terminal echoes what is typed itself), so that a
// scripted session's transcript shows the answers.
std::string read_line(std::istream& in, std::ostream& out) {
  std::string line;
  bool ok = false;
  gocxx::blocking([&] { ok = static_cast<bool>(std::getline(in, line)); });
  if (!ok) throw Quit{};
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (&in == &std::cin && ::isatty(STDIN_FILENO) == 0) out << line << "\n";
  if (line == "q") throw Quit{};
  return line;
}

std::string prompt(std::istream& in, std::ostream& out, const std::string& text) {
  out << text << std::flush;
  return read_line(in, out);
}

std::string minutes(std::chrono::milliseconds ms) {
  long long s = ms.count() / 1000;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld:%02lld", s / 60, s % 60);
  return buf;
}

void show(std::ostream& out, const Current& c, int position) {
  const CandidateView& v = c.view;
  out << "\n━━ Item " << position << " · " << v.dimension << " · level " << v.level << " · "
      << to_string(v.kind);
  if (c.remaining) out << " · " << minutes(*c.remaining) << " left";
  if (!c.rule.empty()) out << " · chosen by rule " << c.rule;
  out << " ━━\n\n" << v.title << "\n\n" << v.statement << "\n";
  for (const auto& [name, content] : v.files) {
    out << "\n── " << name << " ──\n";
    std::istringstream lines(content);
    std::string line;
    for (int n = 1; std::getline(lines, line); ++n) {
      char num[16];
      std::snprintf(num, sizeof num, "%3d  ", n);
      out << num << line << "\n";
    }
  }
  if (!v.artifact.empty()) out << "\n── artifact ──\n" << v.artifact << "\n";
}

Answer ask_choice(std::istream& in, std::ostream& out, const CandidateView& v) {
  out << "\n";
  for (std::size_t i = 0; i < v.choices.size(); ++i) out << "  " << i + 1 << ") " << v.choices[i] << "\n";
  for (;;) {
    std::string line = prompt(in, out, "answer [1-" + std::to_string(v.choices.size()) + ", q to leave]: ");
    try {
      std::size_t used = 0;
      unsigned long n = std::stoul(line, &used);
      if (used == line.size() && n >= 1 && n <= v.choices.size()) return Answer{.choice = n - 1};
    } catch (const std::exception&) {
    }
    out << "please type a number from 1 to " << v.choices.size() << "\n";
  }
}

Answer ask_text(std::istream& in, std::ostream& out, const CandidateView& v) {
  if (v.answer == "number") return Answer{.text = prompt(in, out, "\nanswer (a number, q to leave): ")};
  out << "\nType the program's output; finish with a line holding only a dot (.):\n";
  std::string text;
  for (std::string line; (line = read_line(in, out)) != ".";) text += line + "\n";
  return Answer{.text = text};
}

Answer ask_files(std::istream& in, std::ostream& out, const CandidateView& v, const fs::path& dir) {
  fs::create_directories(dir);
  for (const auto& [name, content] : v.files) {
    if (std::find(v.editable.begin(), v.editable.end(), name) == v.editable.end()) continue;
    if (!fs::exists(dir / name)) std::ofstream(dir / name) << content;  // keep edits over a resume
  }
  out << "\nEdit these files, then press Enter to submit (e: open them in $EDITOR, q: leave):\n";
  for (const std::string& name : v.editable) out << "  " << (dir / name).string() << "\n";
  for (;;) {
    std::string line = read_line(in, out);
    if (line != "e") break;
    const char* editor = std::getenv("EDITOR");
    std::string cmd = std::string(editor && *editor ? editor : "vi");
    for (const std::string& name : v.editable) cmd += " '" + (dir / name).string() + "'";
    int rc = 0;
    gocxx::blocking([&] { rc = std::system(cmd.c_str()); });
    if (rc != 0) out << "(the editor exited with status " << rc << ")\n";
    out << "Press Enter to submit, e to edit again:\n";
  }
  Answer a;
  for (const std::string& name : v.editable) {
    std::ifstream file(dir / name, std::ios::binary);
    a.files[name] = std::string(std::istreambuf_iterator<char>(file), {});
  }
  return a;
}

void show_result(std::ostream& out, const Graded& g) {
  const nlohmann::json& r = g.results;
  if (!g.recorded) {
    out << "\n✗ The grader could not grade this answer: " << r.value("message", "") << "\n"
        << "  (not counted; answer again)\n";
    return;
  }
  out << "\n" << (g.correct ? "✓ right" : g.timed_out ? "✗ the time was up" : "✗ not right");
  std::string message = r.value("message", "");
  if (!message.empty()) out << ": " << message;
  out << "\n";
  if (r.contains("tests")) {
    for (const auto& t : r["tests"]) {
      if (t.value("status", "") == "pass") continue;
      out << "  " << t.value("name", "") << ": " << t.value("status", "") << " " << t.value("message", "")
          << "\n";
      std::string output = t.value("output", "");
      if (!output.empty()) out << "    " << output << "\n";
    }
  }
  for (const rules::Firing& f : g.fired) out << "  (adaptive rule " << f.rule << " fired)\n";
}

// When the warm cache last changed: Go adds entries to its 256 subdirectories, which changes
// their mtime, not the top directory's.
fs::file_time_type last_change(const fs::path& gocache) {
  fs::file_time_type t = fs::last_write_time(gocache);
  for (const fs::directory_entry& e : fs::directory_iterator(gocache))
    if (e.is_directory()) t = std::max(t, e.last_write_time());
  return t;
}

// <cache>/gocache-snapshot, made again when the warm cache changed after it was taken (its mtime
// is the warm cache's last change when copied). Several `assess take`s may start at once: each
// copies into a directory of its own, then puts it in place with one atomic rename (or exchange
// with the stale one), so none ever sees a half-made snapshot, or no snapshot.
fs::path seeded_snapshot(const fs::path& cache) {
  const fs::path warm = cache / "gocache", snapshot = cache / "gocache-snapshot";
  const fs::file_time_type changed = last_change(warm);
  std::error_code ec;
  if (fs::is_directory(snapshot, ec) && fs::last_write_time(snapshot, ec) >= changed) return snapshot;
  std::cerr << "assess: copying the warm GOCACHE for the gradings (once per bank check)...\n";
  std::string made = (cache / "gocache-snapshot.new-XXXXXX").string();
  if (!::mkdtemp(made.data())) throw std::system_error(errno, std::generic_category(), "mkdtemp " + made);
  try {
    snapshot_gocache(warm, made);
    fs::last_write_time(made, changed);
  } catch (...) {
    fs::remove_all(made, ec);
    throw;
  }
  // rename(2) does not replace a non-empty directory: a stale snapshot is exchanged with ours. A
  // file system without RENAME_EXCHANGE keeps the stale one, which is as safe, only less warm.
  if (::rename(made.c_str(), snapshot.c_str()) != 0)
    ::renameat2(AT_FDCWD, made.c_str(), AT_FDCWD, snapshot.c_str(), RENAME_EXCHANGE);
  fs::remove_all(made, ec);  // the stale snapshot; or ours, when another take's came first
  return snapshot;
}

}  // namespace

// Seeded is safe for untrusted code: the snapshot is mounted read-only in the sandbox and its
// files are read-only; a grading's own GOCACHE holds symlinks to them, so a run reads the warm
// entries but cannot change them, and what it adds dies with its scratch directory (grader_test:
// ACandidateCannotReadHiddenTestsNorChangeTheWarmCache). The warm cache itself is only ever
// written by `assess bank check`, which runs the bank's own (trusted) code. It saves ~15 s per
// fix item over GoCache::fresh (the race-enabled standard library is built already).
Grader candidate_grader(const fs::path& cache) {
  GoConfig config;  // GoCache::fresh
  std::error_code ec;
  if (fs::is_directory(cache / "gocache", ec)) {
    try {
      config.gocache = seeded_snapshot(cache);
      config.cache = GoCache::seeded;
    } catch (const std::exception& e) {  // e.g. a bank check removing entries while we copy
      std::cerr << "assess: grading without the warm GOCACHE (" << e.what() << ")\n";
    }
  }
  return Grader(config, OracleCache(cache / "oracles"));
}

int take(const TakeOptions& options, const Context& ctx, std::istream& in, std::ostream& out) {
  std::optional<Assessment> a;
  if (options.resume) {
    a.emplace(Assessment::resume(ctx, *options.resume));
    out << "Resuming assessment " << a->id() << ".\n";
  } else {
    std::optional<Candidate> candidate = ctx.store.find_candidate(options.candidate);
    if (!candidate) candidate = ctx.store.create_candidate(options.candidate, options.name);
    a.emplace(Assessment::start(ctx, candidate->id, options.config));
    out << "Assessment " << a->id() << " for " << options.candidate
        << ". Type q at any prompt to leave; `assess take --resume " << a->id()
        << "` comes back to the same item.\n";
  }
  try {
    while (std::optional<Current> c = a->current()) {
      show(out, *c, c->presentation.seq);
      const CandidateView& v = c->view;
      Answer answer = v.answer == "choice" ? ask_choice(in, out, v)
                      : v.answer == "files"
                          ? ask_files(in, out, v, options.work_dir / ("session-" + std::to_string(a->id())) / v.id)
                          : ask_text(in, out, v);
      out << "grading..." << std::flush;
      show_result(out, a->answer(answer));
    }
  } catch (const Quit&) {
    out << "\nLeft assessment " << a->id() << "; resume it with: assess take --resume " << a->id() << "\n";
    return 0;
  }
  out << "\nThe assessment is complete.\n\n"
      << to_text(make_report(a->record(), ctx.bank, ctx.rules, ctx.store.load_item_params()));
  return 0;
}

}  // namespace assess::cli

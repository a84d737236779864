// The trace and leak report (gocxx/report.hpp) and its command, gocxx-trace-report: analyses of
// a real gocxx trace and real dumps (gocxx's, taken here; Go 1.19's, captured from
// tests/report/leaky.go and also taken live with `go run`), hostile strings in both renderings,
// clear errors for bad input, and the command's exit codes. No timing is asserted.
#include <gocxx/debug.hpp>
#include <gocxx/report.hpp>
#include <gocxx/trace.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <gmock/gmock.h>

#include "test_util.hpp"

namespace fs = std::filesystem;
using gocxx::report::DumpAnalysis;
using gocxx::report::analyze_dump;
using gocxx::report::analyze_trace;
using gocxx::test::eventually;
using gocxx::test::run_with;
using ::testing::HasSubstr;
using ::testing::Not;

namespace {

constexpr int kBlocked = 100;   // site A: blocked on a channel until the trace has stopped
constexpr int kFinished = 50;   // site B: done before the trace stops
constexpr int kLockers = 50;    // site C (dumps): blocked on a held mutex

// ---- files -----------------------------------------------------------------------------------

fs::path temp_dir() {
  static const fs::path dir = [] {
    fs::path d = fs::temp_directory_path() / ("gocxx_report_test_" + std::to_string(getpid()));
    fs::create_directories(d);
    return d;
  }();
  return dir;
}

// Removes temp_dir() when the tests are done.
class TempDirCleanup : public ::testing::Environment {
 public:
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(temp_dir(), ec);
  }
};
const auto* const kCleanup = ::testing::AddGlobalTestEnvironment(new TempDirCleanup);

std::string read(const fs::path& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

void write(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

std::string data(const std::string& name) { return read(fs::path(GOCXX_REPORT_DATA) / name); }

// ---- the workload: goroutines from known sites -----------------------------------------------

int waiting_for(const std::string& reason) {
  int n = 0;
  for (const auto& g : gocxx::debug::goroutines()) n += g.wait_reason == reason;
  return n;
}

[[gnu::noinline]] void spawn_blocked(gocxx::Chan<int> never, int n) {
  for (int i = 0; i < n; ++i) gocxx::go([never]() mutable { never.recv(); });
}

[[gnu::noinline]] void spawn_finishing(gocxx::sync::WaitGroup& wg, int n) {
  for (int i = 0; i < n; ++i) {
    wg.add(1);
    gocxx::go([&wg] {
      gocxx::yield();
      wg.done();
    });
  }
}

[[gnu::noinline]] void spawn_lockers(gocxx::sync::Mutex& mu, int n) {
  for (int i = 0; i < n; ++i) gocxx::go([&mu] { std::lock_guard lock(mu); });
}

// A trace of kBlocked goroutines from spawn_blocked parked on a channel and kFinished from
// spawn_finishing that ran and exited; written once per process.
const std::string& workload_trace() {
  static const std::string path = [] {
    std::string p = (temp_dir() / "workload.json").string();
    run_with(2, [&] {
      gocxx::Chan<int> never;
      gocxx::sync::WaitGroup wg;
      gocxx::trace::start(p);
      spawn_blocked(never, kBlocked);
      spawn_finishing(wg, kFinished);
      wg.wait();
      // Every A parked, every B gone: what the trace must show at its end.
      EXPECT_TRUE(eventually([] { return waiting_for("chan receive") == kBlocked; }));
      EXPECT_TRUE(eventually([] { return gocxx::num_goroutine() == 1 + kBlocked; }));
      gocxx::trace::stop();
      never.close();
      gocxx::test::join_goroutines();
    });
    return p;
  }();
  return path;
}

const gocxx::report::TraceSite* find_site(const gocxx::report::TraceAnalysis& a, const std::string& part) {
  for (const auto& s : a.sites) {
    if (s.site.find(part) != std::string::npos) return &s;
  }
  return nullptr;
}

const gocxx::report::DumpSite* find_site(const DumpAnalysis& a, const std::string& part) {
  for (const auto& s : a.sites) {
    if (s.function.find(part) != std::string::npos) return &s;
  }
  return nullptr;
}

std::size_t state_count(const std::vector<gocxx::report::StateCount>& states, const std::string& state) {
  for (const auto& s : states) {
    if (s.state == state) return s.count;
  }
  return 0;
}

// ---- a minimal XML well-formedness check (the HTML is written as XML, SVG included) ---------

// Empty if `text` is well-formed (after an optional <!DOCTYPE ...>), else what is wrong.
std::string xml_problem(const std::string& text) {
  std::vector<std::string> open;
  std::size_t i = 0;
  if (text.rfind("<!DOCTYPE", 0) == 0) i = text.find('>') + 1;
  while (i < text.size()) {
    char c = text[i];
    if (c == '&') {
      std::size_t semi = text.find(';', i);
      std::string entity = text.substr(i, semi == std::string::npos ? 10 : semi - i + 1);
      static const std::vector<std::string> known{"&amp;", "&lt;", "&gt;", "&quot;", "&#39;"};
      if (std::find(known.begin(), known.end(), entity) == known.end()) return "bad entity " + entity;
      i = semi + 1;
      continue;
    }
    if (c != '<') {
      if (c == '>') return "stray '>' at " + std::to_string(i);
      ++i;
      continue;
    }
    std::size_t end = i + 1;
    char quote = 0;
    for (; end < text.size(); ++end) {  // '>' inside a quoted attribute does not end the tag
      if (quote) {
        if (text[end] == quote) quote = 0;
        else if (text[end] == '<') return "'<' in an attribute at " + std::to_string(end);
      } else if (text[end] == '"' || text[end] == '\'') {
        quote = text[end];
      } else if (text[end] == '>') {
        break;
      } else if (text[end] == '<') {
        return "'<' inside a tag at " + std::to_string(end);
      }
    }
    if (end >= text.size()) return "unterminated tag at " + std::to_string(i);
    std::string tag = text.substr(i + 1, end - i - 1);
    std::string name = tag.substr(tag[0] == '/' ? 1 : 0);
    name = name.substr(0, name.find_first_of(" \n/"));
    if (tag[0] == '/') {
      if (open.empty() || open.back() != name) return "</" + name + "> does not close <" + (open.empty() ? "" : open.back()) + ">";
      open.pop_back();
    } else if (tag.back() != '/') {
      open.push_back(name);
    }
    i = end + 1;
  }
  return open.empty() ? "" : "<" + open.back() + "> not closed";
}

// ---- a process -------------------------------------------------------------------------------

struct Exit {
  int code = -1;
  std::string err;
};

Exit run_command(const std::string& command) {
  fs::path err = temp_dir() / "stderr.txt";
  int status = std::system((command + " 2>" + err.string()).c_str());
  Exit e;
  e.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  e.err = read(err);
  return e;
}

std::string tool(const std::string& args) { return std::string(GOCXX_TRACE_REPORT_BIN) + " " + args; }

// ---- traces ------------------------------------------------------------------------------------

TEST(ReportTrace, PerSiteCountsAliveAndWaitReasons) {
  auto a = analyze_trace(workload_trace());
  EXPECT_EQ(a.procs, 2);
  EXPECT_EQ(a.dropped_events, 0u);
  EXPECT_GT(a.duration_ns, 0);
  EXPECT_GT(a.events, 0u);

  const auto* blocked = find_site(a, "spawn_blocked");
  ASSERT_NE(blocked, nullptr);
  EXPECT_EQ(blocked->created, static_cast<std::uint64_t>(kBlocked));
  EXPECT_EQ(blocked->goroutines, static_cast<std::uint64_t>(kBlocked));
  EXPECT_EQ(blocked->alive_at_end, static_cast<std::uint64_t>(kBlocked));
  EXPECT_EQ(blocked->exited, 0u);
  EXPECT_GE(blocked->runs, static_cast<std::uint64_t>(kBlocked));
  ASSERT_FALSE(blocked->blocked.empty());
  EXPECT_EQ(blocked->blocked.front().reason, "chan receive");
  EXPECT_EQ(blocked->blocked.front().count, static_cast<std::uint64_t>(kBlocked));
  EXPECT_GT(blocked->blocked_ns, 0);
  EXPECT_GT(blocked->running_ns, 0);

  const auto* finished = find_site(a, "spawn_finishing");
  ASSERT_NE(finished, nullptr);
  EXPECT_EQ(finished->created, static_cast<std::uint64_t>(kFinished));
  EXPECT_EQ(finished->exited, static_cast<std::uint64_t>(kFinished));
  EXPECT_EQ(finished->alive_at_end, 0u);

  // The run's main goroutine is named after the function that called gocxx::run.
  const auto* main_site = find_site(a, "run_with");
  ASSERT_NE(main_site, nullptr);
  EXPECT_EQ(main_site->goroutines, 1u);
  EXPECT_EQ(main_site->created, 0u) << "it was running when the trace started";
  EXPECT_EQ(main_site->alive_at_end, 1u);
  EXPECT_EQ(a.sites.front().site, blocked->site) << "sites with the most goroutines alive first";

  // The blocked site's waits, still going on at the end.
  bool found = false;
  for (const auto& b : a.blocking) {
    if (b.site == blocked->site && b.reason == "chan receive") {
      found = true;
      EXPECT_EQ(b.count, static_cast<std::uint64_t>(kBlocked));
      EXPECT_EQ(b.still_blocked, static_cast<std::uint64_t>(kBlocked));
      EXPECT_GE(b.total_ns, b.max_ns);
    }
  }
  EXPECT_TRUE(found);
  EXPECT_TRUE(std::is_sorted(a.blocking.begin(), a.blocking.end(),
                             [](const auto& x, const auto& y) { return x.total_ns > y.total_ns; }));

  // Each created goroutine's first start is one latency sample; the buckets hold them all.
  EXPECT_GE(a.latency_samples, static_cast<std::uint64_t>(kBlocked + kFinished));
  std::uint64_t in_buckets = 0;
  for (const auto& b : a.latency) in_buckets += b.count;
  EXPECT_EQ(in_buckets, a.latency_samples);
  EXPECT_LE(a.latency_p50_ns, a.latency_p99_ns);
  EXPECT_LE(a.latency_p99_ns, a.latency_max_ns);

  // The Goroutines counter: main alone, then main, every A and at least the first B (the
  // others may finish as the rest are made), then main and the As.
  EXPECT_EQ(a.goroutines_at_start, 1);
  EXPECT_GE(a.goroutines_max, 1 + kBlocked + 1);
  EXPECT_LE(a.goroutines_max, 1 + kBlocked + kFinished);
  EXPECT_EQ(a.goroutines_at_end, 1 + kBlocked);
  ASSERT_FALSE(a.goroutines.empty());
  EXPECT_LE(a.goroutines.size(), 1000u);
  EXPECT_EQ(a.goroutines.back().second, 1 + kBlocked);
  ASSERT_FALSE(a.site_curves.empty());
  EXPECT_EQ(a.site_curves.front().first, blocked->site);
  EXPECT_EQ(a.site_curves.front().second.back().second, kBlocked);
}

TEST(ReportTrace, SectionNamesSitesAndReasons) {
  auto a = analyze_trace(workload_trace());
  gocxx::report::Document doc("trace");
  gocxx::report::add_trace_analysis(doc, a);
  std::string md = doc.markdown();
  EXPECT_THAT(md, HasSubstr("spawn\\_blocked"));
  EXPECT_THAT(md, HasSubstr("chan receive"));
  EXPECT_THAT(md, HasSubstr("Scheduler latency"));
  EXPECT_THAT(md, HasSubstr("What the trace cannot tell"));
  std::string html = doc.html();
  EXPECT_EQ(xml_problem(html), "");
  EXPECT_THAT(html, HasSubstr("<svg"));
  EXPECT_THAT(html, HasSubstr("<polyline"));
  // Self-contained: no scripts, nothing loaded from elsewhere (bar the SVG namespace's name).
  for (std::size_t at; (at = html.find(" xmlns=\"http://www.w3.org/2000/svg\"")) != std::string::npos;) {
    html.erase(at, 35);
  }
  for (const char* external : {"<script", "http", "src=", "href=", "url(", "@import"}) {
    EXPECT_THAT(html, Not(HasSubstr(external)));
  }
}

TEST(ReportTrace, BadInputIsAClearError) {
  auto expect_invalid = [](const std::string& text, const std::string& name, const std::string& what) {
    fs::path p = temp_dir() / name;
    write(p, text);
    try {
      analyze_trace(p.string());
      ADD_FAILURE() << name << ": no error";
    } catch (const std::invalid_argument& e) {
      EXPECT_THAT(e.what(), HasSubstr(p.string())) << name;
      EXPECT_THAT(e.what(), HasSubstr(what)) << name;
    }
  };
  std::string real = read(workload_trace());
  expect_invalid(real.substr(0, real.size() / 2), "truncated.json", "offset " + std::to_string(real.size() / 2 + 1));
  expect_invalid("{\"displayTimeUnit\":\"ns\", oops}", "malformed.json", "offset 26");
  expect_invalid("", "empty.json", "offset");
  expect_invalid("{\"traceEvents\":[{\"ph\":\"X\"}]}", "chrome.json", "not a gocxx execution trace");
  expect_invalid("[{\"ph\":\"X\"}]", "array.json", "not a gocxx execution trace");
  expect_invalid("{\"otherData\":{\"generator\":\"gocxx execution trace\"}}", "no_events.json",
                 "no \"traceEvents\"");
  fs::path missing = temp_dir() / "missing.json";
  EXPECT_THROW(
      {
        try {
          analyze_trace(missing.string());
        } catch (const std::runtime_error& e) {
          EXPECT_THAT(e.what(), HasSubstr(missing.string()));
          throw;
        }
      },
      std::runtime_error);
}

// ---- dumps -------------------------------------------------------------------------------------

// gocxx's dump (level 2 or 1) of kBlocked goroutines on a channel and kLockers on a mutex.
std::string gocxx_dump(int level) {
  std::string text;
  run_with(2, [&] {
    gocxx::Chan<int> never;
    gocxx::sync::Mutex mu;
    mu.lock();
    spawn_blocked(never, kBlocked);
    spawn_lockers(mu, kLockers);
    EXPECT_TRUE(eventually([] {
      return waiting_for("chan receive") == kBlocked && waiting_for("sync.Mutex.Lock") == kLockers;
    }));
    std::ostringstream out;
    gocxx::debug::write_goroutines(out, level);
    text = out.str();
    mu.unlock();
    never.close();
    gocxx::test::join_goroutines();
  });
  return text;
}

TEST(ReportDump, GocxxDumpFindsSitesAndWaitReasons) {
  DumpAnalysis a = analyze_dump(gocxx_dump(2));
  EXPECT_EQ(a.format, DumpAnalysis::Format::kTraceback);
  EXPECT_EQ(a.total, static_cast<std::size_t>(1 + kBlocked + kLockers));
  ASSERT_FALSE(a.sites.empty());
  EXPECT_THAT(a.sites.front().function, HasSubstr("spawn_blocked")) << "the largest site first";
  EXPECT_EQ(a.sites.front().count, static_cast<std::size_t>(kBlocked));
  EXPECT_THAT(a.sites.front().location, HasSubstr("report_test.cpp:"));
  EXPECT_EQ(state_count(a.sites.front().states, "chan receive"), static_cast<std::size_t>(kBlocked));
  std::size_t in_stacks = 0;
  for (const auto& g : a.sites.front().stacks) {
    in_stacks += g.count;
    EXPECT_EQ(g.state, "chan receive");
    EXPECT_THAT(g.stack, HasSubstr("created by"));
    EXPECT_NE(g.sample_id, 0u);
  }
  EXPECT_EQ(in_stacks, static_cast<std::size_t>(kBlocked));

  const auto* lockers = find_site(a, "spawn_lockers");
  ASSERT_NE(lockers, nullptr);
  EXPECT_EQ(lockers->count, static_cast<std::size_t>(kLockers));
  EXPECT_EQ(state_count(lockers->states, "sync.Mutex.Lock"), static_cast<std::size_t>(kLockers));
  const auto* main_site = find_site(a, "(main)");
  ASSERT_NE(main_site, nullptr);
  EXPECT_EQ(state_count(main_site->states, "running"), 1u);
  EXPECT_EQ(state_count(a.states, "chan receive"), static_cast<std::size_t>(kBlocked));
  EXPECT_TRUE(a.oldest.empty()) << "nothing waited a minute";
}

TEST(ReportDump, GocxxProfileGroupsWithStates) {
  DumpAnalysis a = analyze_dump(gocxx_dump(1));
  EXPECT_EQ(a.format, DumpAnalysis::Format::kProfile);
  EXPECT_EQ(a.total, static_cast<std::size_t>(1 + kBlocked + kLockers));
  ASSERT_FALSE(a.sites.empty());
  EXPECT_EQ(a.sites.front().count, static_cast<std::size_t>(kBlocked));
  EXPECT_EQ(state_count(a.states, "chan receive"), static_cast<std::size_t>(kBlocked));
  EXPECT_EQ(state_count(a.states, "sync.Mutex.Lock"), static_cast<std::size_t>(kLockers));
}

TEST(ReportDump, Go119DumpFindsTheLeak) {
  DumpAnalysis a = analyze_dump(data("go1.19.txt"));
  EXPECT_EQ(a.total, 52u);
  ASSERT_EQ(a.sites.size(), 4u);
  const auto& workers = a.sites[0];
  EXPECT_EQ(workers.function, "main.startWorkers");
  EXPECT_THAT(workers.location, ::testing::EndsWith("tests/report/leaky.go:30"));
  EXPECT_EQ(workers.count, 30u);
  EXPECT_EQ(state_count(workers.states, "chan receive"), 30u);
  EXPECT_EQ(workers.oldest_minutes, 2);
  ASSERT_EQ(workers.stacks.size(), 1u);
  EXPECT_EQ(workers.stacks[0].count, 30u);
  EXPECT_EQ(workers.stacks[0].sample_id, 5u);
  EXPECT_THAT(workers.stacks[0].stack, HasSubstr("main.worker(0x0?)"));

  EXPECT_EQ(a.sites[1].function, "main.handle");
  EXPECT_EQ(a.sites[1].count, 20u);
  EXPECT_EQ(state_count(a.sites[1].states, "chan send"), 20u);
  const auto* locker = find_site(a, "main.lockForever");
  ASSERT_NE(locker, nullptr);
  EXPECT_EQ(state_count(locker->states, "semacquire"), 1u);
  EXPECT_NE(find_site(a, "(main)"), nullptr);

  ASSERT_FALSE(a.oldest.empty());
  EXPECT_EQ(a.oldest.size(), 20u);
  EXPECT_EQ(a.oldest.front().minutes, 2);
  EXPECT_EQ(a.oldest.front().id, 4u) << "ties: lowest id first";

  gocxx::report::Document doc("go");
  gocxx::report::add_leak_analysis(doc, a, 3);
  std::string md = doc.markdown();
  EXPECT_THAT(md, HasSubstr("The largest, main.startWorkers (leaky.go:30), has 30"));
  EXPECT_THAT(md, HasSubstr("30 goroutines [chan receive, up to 2 minutes], e.g. goroutine 5:"));
  EXPECT_THAT(md, HasSubstr("(1 more sites)"));
}

TEST(ReportDump, Go119ProfileCountsGroups) {
  DumpAnalysis a = analyze_dump(data("go1.19-debug1.txt"));
  EXPECT_EQ(a.format, DumpAnalysis::Format::kProfile);
  EXPECT_EQ(a.total, 52u);
  ASSERT_EQ(a.sites.size(), 4u);
  EXPECT_EQ(a.sites[0].function, "main.worker");
  EXPECT_EQ(a.sites[0].count, 30u);
  EXPECT_EQ(a.sites[1].function, "main.handle.func1");
  EXPECT_EQ(a.sites[1].count, 20u);
  EXPECT_EQ(a.sites[0].states.front().state, "unknown") << "Go's debug=1 has no states";
}

TEST(ReportDump, NewerGoAndSigquitText) {
  // Go 1.21+ names the parent; GOTRACEBACK=system adds gp/m fields; a SIGQUIT dump has a
  // preamble and registers around the goroutines.
  const std::string text =
      "SIGQUIT: quit\nPC=0x46a0e1 m=0 sigcode=0\n\n"
      "goroutine 1 gp=0xc000002380 m=0 mp=0x5b5e00 [running]:\nmain.main()\n\t/src/x.go:10 +0x1d\n\n"
      "goroutine 7 gp=0xc000007500 m=nil [chan receive, 3 minutes, locked to thread]:\n"
      "main.f(...)\n\t/src/x.go:5\ncreated by main.main in goroutine 1\n\t/src/x.go:9 +0x25\n\n"
      "goroutine 8 [chan receive, 1 minutes]:\n"
      "main.f(...)\n\t/src/x.go:5\ncreated by main.main in goroutine 1\n\t/src/x.go:9 +0x25\n\n"
      "rax    0x0\nrbx    0x1\n";
  DumpAnalysis a = analyze_dump(text);
  EXPECT_EQ(a.total, 3u);
  const auto* site = find_site(a, "main.main");
  ASSERT_NE(site, nullptr);
  EXPECT_EQ(site->location, "/src/x.go:9");
  EXPECT_EQ(site->count, 2u);
  EXPECT_EQ(site->oldest_minutes, 3);
  EXPECT_EQ(state_count(site->states, "chan receive"), 2u);
  ASSERT_EQ(site->stacks.size(), 1u) << "same stack, different waits: one group";
  ASSERT_EQ(a.oldest.size(), 2u);
  EXPECT_EQ(a.oldest[0].id, 7u);
  EXPECT_EQ(a.oldest[1].minutes, 1);
}

TEST(ReportDump, BadInputIsAClearError) {
  EXPECT_THROW(analyze_dump(""), std::invalid_argument);
  EXPECT_THROW(analyze_dump("\n\n"), std::invalid_argument);
  EXPECT_THROW(analyze_dump("hello\nworld\n"), std::invalid_argument);
  try {
    analyze_dump("goroutine 1 [running]:\nmain.main()\n\ngoroutine 12 [chan receive\nmain.f()\n");
    ADD_FAILURE() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr("line 4"));
    EXPECT_THAT(e.what(), HasSubstr("goroutine 12 [chan receive"));
  }
  EXPECT_THROW(analyze_dump("goroutine profile: total x\n"), std::invalid_argument);
}

TEST(ReportDump, GrowthAcrossDumps) {
  std::vector<std::pair<double, DumpAnalysis>> dumps;
  run_with(2, [&] {
    gocxx::Chan<int> never;
    for (int round = 1; round <= 3; ++round) {
      spawn_blocked(never, 10);
      EXPECT_TRUE(eventually([&] { return waiting_for("chan receive") == 10 * round; }));
      std::ostringstream out;
      gocxx::debug::write_goroutines(out, 2);
      dumps.emplace_back(30.0 * (round - 1), analyze_dump(out.str()));
    }
    never.close();
    gocxx::test::join_goroutines();
  });
  auto growth = gocxx::report::growth_by_site(dumps);
  ASSERT_FALSE(growth.empty());
  EXPECT_THAT(growth.front().function, HasSubstr("spawn_blocked"));
  EXPECT_EQ(growth.front().counts, (std::vector<std::size_t>{10, 20, 30}));
  EXPECT_EQ(growth.front().growth, 20);
  EXPECT_DOUBLE_EQ(growth.front().per_minute, 20.0);

  gocxx::report::Document doc("growth");
  gocxx::report::add_growth_analysis(doc, dumps);
  std::string md = doc.markdown();
  EXPECT_THAT(md, HasSubstr("11 → 31 goroutines (+20, 20/min)"));
  EXPECT_THAT(md, HasSubstr("| +20 | 20/min |"));
  EXPECT_EQ(xml_problem(doc.html()), "");
}

// ---- the document ------------------------------------------------------------------------------

const std::string kHostile = "<script>alert('x')</script> & \"q\" `tick` |pipe| *b* [l](u) <img src=x onerror=y>";

TEST(ReportDocument, EscapesHostileStrings) {
  gocxx::report::Document doc(kHostile);
  doc.heading(kHostile);
  doc.paragraph(kHostile);
  doc.table({kHostile, "n"}, {{kHostile, "1"}, {"short row"}});
  doc.code(kHostile + "\n```\nnot the end of the block\n");
  doc.line_chart(kHostile, kHostile, kHostile, {{kHostile, {{0, 1}, {1, 3}, {2, 2}}}, {"one", {{1, 5}}}});
  doc.bar_chart(kHostile, {{kHostile, 3}, {"zero", 0}});

  std::string html = doc.html();
  std::string lower = html;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  EXPECT_THAT(lower, Not(HasSubstr("<script")));
  EXPECT_THAT(lower, Not(HasSubstr("<img")));
  EXPECT_THAT(html, HasSubstr("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"));
  EXPECT_EQ(xml_problem(html), "");

  std::string md = doc.markdown();
  EXPECT_THAT(md, HasSubstr("````text\n")) << "a fence longer than the ``` inside";
  std::size_t code = md.find("````text\n"), code_end = md.find("\n````\n", code);
  ASSERT_NE(code_end, std::string::npos);
  EXPECT_THAT(md.substr(code, code_end - code), HasSubstr("not the end of the block"));
  md.erase(code, code_end - code);  // a code block is literal text in Markdown
  for (std::size_t at = md.find('<'); at != std::string::npos; at = md.find('<', at + 1)) {
    EXPECT_TRUE(at > 0 && md[at - 1] == '\\') << "raw '<' in Markdown at " << at;
  }
  EXPECT_THAT(md, HasSubstr("\\<script\\>alert('x')\\</script\\> \\& \"q\" \\`tick\\` \\|pipe\\| \\*b\\* \\[l\\](u)"));
  EXPECT_THAT(md, HasSubstr("| short row |  |"));
}

TEST(ReportDocument, HostileDumpStaysText) {
  DumpAnalysis a = analyze_dump(
      "goroutine 9 [chan receive]:\nevil<script>()\n\t/x/<b>.go:1 +0x1\n"
      "created by <script>alert(1)</script>\n\t/x/<b>.go:2 +0x2\n");
  gocxx::report::Document doc("dump");
  gocxx::report::add_leak_analysis(doc, a);
  std::string html = doc.html();
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, HasSubstr("&lt;script&gt;alert(1)&lt;/script&gt;"));
  EXPECT_EQ(xml_problem(html), "");
}

TEST(ReportDocument, WriteCreatesBothFilesOrNamesThePath) {
  gocxx::report::Document doc("t");
  doc.paragraph("p");
  fs::path dir = temp_dir() / "out" / "nested";
  doc.write(dir.string());
  EXPECT_EQ(read(dir / "report.md"), doc.markdown());
  EXPECT_EQ(read(dir / "report.html"), doc.html());

  fs::path file = temp_dir() / "a_file";
  write(file, "x");
  try {
    doc.write((file / "sub").string());
    ADD_FAILURE() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr((file / "sub").string()));
  }
  EXPECT_THROW(doc.bar_chart("b", {{"negative", -1}}), std::invalid_argument);
}

// ---- the command -------------------------------------------------------------------------------

TEST(ReportTool, ExitCodes) {
  fs::path out = temp_dir() / "tool";
  EXPECT_EQ(run_command(tool("")).code, 2);
  EXPECT_EQ(run_command(tool(workload_trace())).code, 2) << "no --out";
  EXPECT_EQ(run_command(tool("--bogus --out " + out.string())).code, 2);
  EXPECT_EQ(run_command(tool("--out " + out.string())).code, 2) << "no input";
  EXPECT_EQ(run_command(tool("--dump x --top 0 --out " + out.string())).code, 2);

  Exit missing = run_command(tool((temp_dir() / "nope.json").string() + " --out " + out.string()));
  EXPECT_EQ(missing.code, 1);
  EXPECT_THAT(missing.err, HasSubstr("nope.json"));
  fs::path bad = temp_dir() / "bad.json";
  write(bad, "{\"displayTimeUnit\":");
  Exit invalid = run_command(tool(bad.string() + " --out " + out.string()));
  EXPECT_EQ(invalid.code, 1);
  EXPECT_THAT(invalid.err, HasSubstr("offset"));
  fs::path empty = temp_dir() / "empty.txt";
  write(empty, "");
  EXPECT_EQ(run_command(tool("--dump " + empty.string() + " --out " + out.string())).code, 1);
  EXPECT_FALSE(fs::exists(out / "report.md")) << "nothing written for bad input";

  std::string go_dump = std::string(GOCXX_REPORT_DATA) + "/go1.19.txt";
  Exit ok = run_command(tool(workload_trace() + " --dump " + go_dump + " --dump " + go_dump +
                             " --dump-interval 60 --title T --out " + out.string()));
  ASSERT_EQ(ok.code, 0) << ok.err;
  std::string md = read(out / "report.md");
  EXPECT_THAT(md, HasSubstr("# T\n"));
  EXPECT_THAT(md, HasSubstr("spawn\\_blocked"));
  EXPECT_THAT(md, HasSubstr("main.startWorkers"));
  EXPECT_THAT(md, HasSubstr("Goroutine growth across dumps"));
  EXPECT_EQ(xml_problem(read(out / "report.html")), "");
}

// `go run` of tests/report/leaky.go: a dump from Go as it is installed here, through the command.
TEST(ReportTool, LiveGoDump) {
  ASSERT_EQ(std::system("command -v go >/dev/null"), 0)
      << "'go' not found: this test needs Go (Debian: golang-go; tools/deps.sh installs it)";
  fs::path work = temp_dir() / "go";
  fs::create_directories(work / "home");
  fs::path dump = work / "dump.txt";
  std::string env = "HOME=" + (work / "home").string() + " GOCACHE=" + (work / "cache").string() +
                    " GOPATH=" + (work / "gopath").string() + " GOFLAGS=-mod=mod GOTOOLCHAIN=local";
  Exit go = run_command("cd " + std::string(GOCXX_REPORT_DATA) + " && " + env + " go run leaky.go -dump " +
                        dump.string());
  ASSERT_EQ(go.code, 0) << go.err;
  DumpAnalysis a = analyze_dump(read(dump));
  ASSERT_FALSE(a.sites.empty());
  EXPECT_EQ(a.sites[0].function, "main.startWorkers");
  EXPECT_EQ(state_count(a.sites[0].states, "chan receive"), 30u);
  EXPECT_EQ(a.sites[1].function, "main.handle");
  EXPECT_EQ(state_count(a.sites[1].states, "chan send"), 20u);

  fs::path out = work / "report";
  Exit ok = run_command(tool("--dump " + dump.string() + " --out " + out.string()));
  ASSERT_EQ(ok.code, 0) << ok.err;
  EXPECT_THAT(read(out / "report.md"), HasSubstr("main.startWorkers"));
}

}  // namespace

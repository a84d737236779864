// `assess checklist` (assess/checklist): the gctrace, dump, trace and log readers; the Go and
// gocxx source scanners on small sources with edge cases; the report's JSON, Markdown and text;
// and whole checks of running fixture services: good/ (every item passes), bad/ (every item
// fails, each with its evidence), a gocxx service, and a target that does not answer.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <thread>

#include "checklist/checklist.hpp"
#include "checklist/evidence.hpp"
#include "checklist/process.hpp"
#include "checklist/source_scan.hpp"

namespace {

namespace fs = std::filesystem;
namespace cl = assess::checklist;
using namespace std::chrono_literals;
using testing::AllOf;
using testing::Contains;
using testing::HasSubstr;

const fs::path kFixtures = CHECKLIST_FIXTURES;
const fs::path kWork = CHECKLIST_WORK;

const cl::Item& item(const cl::Report& r, const std::string& id) {
  for (const cl::Item& i : r.items)
    if (i.id == id) return i;
  throw std::runtime_error("no item " + id);
}

std::string joined(const cl::Item& i) {
  std::string s;
  for (const std::string& e : i.evidence) s += e + "\n";
  return s;
}

// A directory of files for one test, under the build tree.
fs::path write_tree(const std::string& name, const std::vector<std::pair<std::string, std::string>>& files) {
  fs::path dir = kWork / "src" / name;
  fs::remove_all(dir);
  for (const auto& [file, text] : files) {
    fs::create_directories((dir / file).parent_path());
    std::ofstream(dir / file) << text;
  }
  return dir;
}

// ---- readers ---------------------------------------------------------------------------------

TEST(ChecklistGctrace, ReadsBothStwPausesOfEachCycle) {
  const std::string log =
      "{\"msg\":\"starting\"}\n"
      "gc 1 @0.011s 2%: 0.021+1.5+0.004 ms clock, 0.08+0.3/1.1/0+0.016 ms cpu, 4->4->0 MB, 4 MB goal, 0 MB stacks, 0 MB globals, 4 P\n"
      "2024-01-02T03:04:05Z gc 2 @3.100s 1%: 12.5+0.9+0.5 ms clock, 25+0/0.4/0+1.0 ms cpu, 4->4->1 MB, 5 MB goal, 4 P (forced)\n"
      "gc 3 @bad: not a trace line\n";
  cl::GcTrace gc = cl::parse_gctrace(log);
  ASSERT_EQ(gc.pauses_ms.size(), 2u);
  EXPECT_DOUBLE_EQ(gc.pauses_ms[0], 0.025);
  EXPECT_DOUBLE_EQ(gc.pauses_ms[1], 13.0);
  EXPECT_DOUBLE_EQ(gc.max_stw_ms, 12.5);
  EXPECT_EQ(gc.forced, 1u);
  EXPECT_EQ(gc.first_line, 2u);
  EXPECT_TRUE(cl::parse_gctrace("{\"msg\":\"no gc\"}\n").pauses_ms.empty());
}

TEST(ChecklistFigures, NearestRankPercentiles) {
  cl::Figures f = cl::figures({5, 1, 4, 2, 3});
  EXPECT_EQ(f.count, 5u);
  EXPECT_EQ(f.p50, 3);
  EXPECT_EQ(f.p99, 5);
  EXPECT_EQ(f.max, 5);
  EXPECT_EQ(cl::figures({}).count, 0u);
}

TEST(ChecklistDump, CountsGoroutinesAndStates) {
  cl::Dump d = cl::parse_goroutine_dump(
      "goroutine 1 [running]:\nmain.main()\n\t/x/main.go:9 +0x1d\n\n"
      "goroutine 7 [chan receive, 3 minutes]:\nmain.worker()\n\t/x/main.go:20 +0x25\ncreated by main.main\n\n"
      "goroutine 8 [chan receive]:\nmain.worker()\n\t/x/main.go:20 +0x25\n");
  EXPECT_TRUE(d.ok) << d.error;
  EXPECT_EQ(d.goroutines, 3u);
  EXPECT_EQ(d.states["chan receive"], 2u);
  EXPECT_EQ(d.states["running"], 1u);
}

TEST(ChecklistDump, RejectsWhatIsNotADump) {
  cl::Dump html = cl::parse_goroutine_dump("<html>404 page not found</html>\n");
  EXPECT_FALSE(html.ok);
  EXPECT_THAT(html.error, HasSubstr("not a goroutine header"));
  EXPECT_FALSE(cl::parse_goroutine_dump("").ok);
  cl::Dump bare = cl::parse_goroutine_dump("goroutine 1 [running]:\n\ngoroutine 2 [select]:\n");
  EXPECT_FALSE(bare.ok);
  EXPECT_THAT(bare.error, HasSubstr("no stack frames"));
}

TEST(ChecklistSchedLatency, PairsFlowArrows) {
  nlohmann::json trace = nlohmann::json::parse(R"({"otherData":{"dropped_events":3},"traceEvents":[
    {"ph":"s","cat":"sched","name":"go","id":1,"ts":100.0},
    {"ph":"s","cat":"sched","name":"unblock","id":2,"ts":200.0},
    {"ph":"f","cat":"sched","name":"go","id":1,"ts":150.0,"bp":"e"},
    {"ph":"f","cat":"sched","name":"unblock","id":2,"ts":12200.0,"bp":"e"},
    {"ph":"s","cat":"sched","name":"unblock","id":3,"ts":300.0},
    {"ph":"X","cat":"goroutine","name":"G1 main","ts":0,"dur":5}]})");
  cl::SchedLatency s = cl::scheduler_latency(trace);
  ASSERT_EQ(s.delays_ms.size(), 2u);  // id 3 never ran again: no delay
  EXPECT_DOUBLE_EQ(s.delays_ms[0], 0.05);
  EXPECT_DOUBLE_EQ(s.delays_ms[1], 12.0);
  EXPECT_EQ(s.created, 1u);
  EXPECT_EQ(s.unblocked, 2u);
  EXPECT_EQ(s.dropped_events, 3);
  EXPECT_THROW(cl::scheduler_latency(nlohmann::json::parse("[1,2]")), std::invalid_argument);
}

TEST(ChecklistLog, SharesLeaveRuntimeLinesOut) {
  const std::string log =
      "{\"msg\":\"a\",\"trace_id\":\"\"}\n"
      "gc 1 @0.011s 2%: 0.021+1.5+0.004 ms clock, 0.08+0.3/1.1/0+0.016 ms cpu, 4->4->0 MB, 4 MB goal, 4 P\n"
      "\n"
      "{\"msg\":\"b\",\"trace_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\"}\n"
      "[1,2]\n"
      "2024/01/02 plain text\n";
  cl::LogStats l = cl::read_log(log);
  EXPECT_EQ(l.lines, 4u);
  EXPECT_EQ(l.runtime_lines, 1u);
  EXPECT_EQ(l.json_objects, 2u);
  EXPECT_EQ(l.with_trace_id, 2u);
  EXPECT_EQ(l.first_plain_line, 5u);
  EXPECT_EQ(cl::find_trace_id(log, "4bf92f3577b34da6a3ce929d0e0e4736"), 4u);
  EXPECT_EQ(cl::find_trace_id(log, "4bf92f3577b34da6"), 0u);  // a prefix is not the id
}

// ---- source scanners -------------------------------------------------------------------------

const cl::HandlerInfo& handler(const cl::SourceScan& s, const std::string& name) {
  for (const cl::HandlerInfo& h : s.handlers)
    if (h.name == name) return h;
  throw std::runtime_error("no handler " + name);
}

TEST(ChecklistGoScan, FindsHandlersAndTheirBounds) {
  fs::path dir = write_tree("goscan", {{"main.go", R"go(package main

import (
	"context"
	"database/sql"
	"net/http"
	"time"
)

const bound = 3 * time.Second

type api struct{ d time.Duration }

// A method handler.
func (a *api) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), bound)
	defer cancel()
	_ = ctx
}

// The timeout is set in a helper two calls down.
func viaHelper(w http.ResponseWriter, r *http.Request) { step(r) }
func step(r *http.Request)                              { helper(r) }
func helper(r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2500*time.Millisecond)
	defer cancel()
	_ = ctx
}

func unbounded(w http.ResponseWriter, r *http.Request) {}
func wrapped(w http.ResponseWriter, r *http.Request)   {}

func main() {
	a := &api{}
	db, _ := sql.Open("x", "y")
	db.SetMaxOpenConns(20)
	db.SetMaxIdleConns(int(a.d))
	http.Handle("/api", a)
	http.HandleFunc("/h", viaHelper)
	http.HandleFunc("/u", unbounded)
	http.Handle("/w", http.TimeoutHandler(http.HandlerFunc(wrapped), time.Second, "slow"))
	http.HandleFunc("/c", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithDeadline(r.Context(), time.Now().Add(time.Second))
		defer cancel()
		_ = ctx
	})
}
)go"}});
  cl::SourceScan s = cl::scan_go(dir, kWork / "cache");
  EXPECT_EQ(s.files, 1u);
  ASSERT_EQ(s.handlers.size(), 5u);
  const cl::HandlerInfo& api = handler(s, "api.ServeHTTP");
  ASSERT_TRUE(api.bound);
  EXPECT_EQ(api.at, "main.go:15");
  EXPECT_EQ(api.bound->duration_ns, 3'000'000'000);
  EXPECT_EQ(api.bound->expr, "bound");
  EXPECT_EQ(api.bound->parent, "r.Context()");
  const cl::HandlerInfo& via = handler(s, "viaHelper");
  ASSERT_TRUE(via.bound);
  EXPECT_EQ(via.bound->in, "helper");
  EXPECT_EQ(via.bound->at, "main.go:25");
  EXPECT_EQ(via.bound->duration_ns, 2'500'000'000);
  EXPECT_EQ(via.patterns, std::vector<std::string>{"/h"});
  EXPECT_FALSE(handler(s, "unbounded").bound);
  const cl::HandlerInfo& w = handler(s, "wrapped");
  ASSERT_TRUE(w.bound);
  EXPECT_EQ(w.bound->via, "http.TimeoutHandler");
  EXPECT_EQ(w.patterns, std::vector<std::string>{"/w"});
  const cl::HandlerInfo& closure = handler(s, "func literal at main.go:42");
  ASSERT_TRUE(closure.bound);
  EXPECT_EQ(closure.bound->via, "context.WithDeadline");
  EXPECT_FALSE(closure.bound->duration_ns);
  EXPECT_EQ(s.db_opens, std::vector<std::string>{"main.go:35"});
  ASSERT_EQ(s.settings.size(), 2u);
  EXPECT_EQ(s.settings[0].value, 20);
  EXPECT_FALSE(s.settings[1].value);  // not constant
  EXPECT_EQ(s.settings[1].expr, "int(a.d)");
}

TEST(ChecklistGoScan, ASyntaxErrorIsReportedNotFatal) {
  fs::path dir = write_tree("goscan-broken", {{"a.go", "package main\nfunc (\n"}, {"b/b.go", "package b\n"}});
  cl::SourceScan s = cl::scan_go(dir, kWork / "cache");
  ASSERT_EQ(s.errors.size(), 1u);
  EXPECT_THAT(s.errors[0], HasSubstr("a.go"));
  EXPECT_TRUE(s.handlers.empty());
}

TEST(ChecklistGocxxScan, FindsHandleFuncLambdasAndNamedHandlers) {
  fs::path dir = write_tree("cxxscan", {{"svc.cpp", R"cpp(#include <gocxx/http.hpp>
using namespace std::chrono_literals;
namespace http = gocxx::http;

// handle_func("/comment", [](auto&, auto&) {}) in a comment is not a registration
static void helper(http::Request& r) {
  auto [ctx, cancel] = gocxx::context::with_timeout(r.context(), std::chrono::seconds(2));
}
static void named(http::ResponseWriter& w, http::Request& r) { helper(r); }

void routes(http::ServeMux& mux) {
  mux.handle_func("/a", [](http::ResponseWriter& w, http::Request& r) {
    auto [ctx, cancel] = gocxx::context::with_timeout(r.context(), 3s);
    (void)w.write("a {");
  });
  mux.handle_func("/b", [](http::ResponseWriter& w, http::Request& r) {
    (void)w.write("with_timeout(r.context(), 1s)");  // only in a string
  });
  mux.handle_func("/n", named);
}
)cpp"}});
  cl::SourceScan s = cl::scan_gocxx(dir);
  ASSERT_EQ(s.handlers.size(), 3u);
  EXPECT_EQ(s.handlers[0].patterns, std::vector<std::string>{"/a"});
  ASSERT_TRUE(s.handlers[0].bound);
  EXPECT_EQ(s.handlers[0].bound->duration_ns, 3'000'000'000);
  EXPECT_EQ(s.handlers[0].bound->at, "svc.cpp:13");
  EXPECT_FALSE(s.handlers[1].bound);
  EXPECT_EQ(s.handlers[2].name, "named");
  ASSERT_TRUE(s.handlers[2].bound);
  EXPECT_EQ(s.handlers[2].bound->in, "helper");
  EXPECT_EQ(s.handlers[2].bound->duration_ns, 2'000'000'000);
  EXPECT_THROW(cl::scan_gocxx(dir / "missing"), std::runtime_error);
}

// ---- the report ------------------------------------------------------------------------------

cl::Report sample_report() {
  cl::Report r{.target = "http://127.0.0.1:1", .lang = cl::Lang::go, .checked_at = "2024-01-02T03:04:05Z", .items = {}};
  r.items.push_back({.id = "gc-pause", .title = "GC pause", .status = cl::Status::pass, .evidence = {"max 1 ms"}, .details = {{"n", 1}}});
  r.items.push_back({.id = "db-pool", .title = "DB | pool", .status = cl::Status::fail, .evidence = {"a|b <x>"}, .details = {}});
  r.items.push_back({.id = "structured-logs", .title = "Logs", .status = cl::Status::not_applicable, .evidence = {"no --log"}, .details = {}});
  return r;
}

TEST(ChecklistReport, JsonFollowsTheSchema) {
  cl::Report r = sample_report();
  nlohmann::json j = cl::to_json(r);
  EXPECT_EQ(j["target"], "http://127.0.0.1:1");
  EXPECT_EQ(j["lang"], "go");
  EXPECT_EQ(j["checked_at"], "2024-01-02T03:04:05Z");
  ASSERT_EQ(j["items"].size(), 3u);
  EXPECT_EQ(j["items"][1]["status"], "fail");
  EXPECT_EQ(j["items"][2]["status"], "not-applicable");
  EXPECT_EQ(j["items"][0]["details"]["n"], 1);
  EXPECT_EQ(j["items"][1]["evidence"][0], "a|b <x>");
  EXPECT_EQ(r.exit_status(), 1);
  r.items[1].status = cl::Status::pass;
  EXPECT_EQ(r.exit_status(), 0);
}

TEST(ChecklistReport, MarkdownEscapesAndTextLists) {
  cl::Report r = sample_report();
  std::string md = cl::to_markdown(r);
  EXPECT_THAT(md, HasSubstr("| DB \\| pool | FAIL |"));
  EXPECT_THAT(md, HasSubstr("- a\\|b \\<x\\>"));
  EXPECT_THAT(md, HasSubstr("1 pass, 1 fail, 1 not applicable"));
  std::string text = cl::to_text(r);
  EXPECT_THAT(text, HasSubstr("2. [FAIL] DB | pool\n     a|b <x>\n"));
  EXPECT_THAT(text, HasSubstr("3. [N/A] Logs"));
}

// ---- whole checks against running services ---------------------------------------------------

// Builds a Go fixture (good/ or bad/) once per test binary, in GOPATH mode.
fs::path go_fixture(const std::string& name) {
  static std::mutex mu;
  std::lock_guard lock(mu);
  fs::path bin = kWork / "bin" / name;
  if (fs::exists(bin)) fs::remove(bin);
  fs::create_directories(bin.parent_path());
  cl::Output o = cl::run_process({"go", "build", "-o", bin.string(), "."},
                                 {"GO111MODULE=off", "GOFLAGS=", "GOPROXY=off",
                                  "GOPATH=" + (kFixtures / "gopath").string() + ":/usr/share/gocode",
                                  "GOCACHE=" + (kWork / "gocache").string()},
                                 kFixtures / name);
  if (o.status != 0) throw std::runtime_error("go build " + name + ": " + o.err);
  return bin;
}

// A started fixture, its address and its log (stderr).
struct Running {
  fs::path log;
  std::unique_ptr<cl::Service> service;
  std::string target;

  Running(const fs::path& bin, const std::vector<std::string>& env, const std::string& name) : log(kWork / (name + ".log")) {
    fs::remove(log);
    service = std::make_unique<cl::Service>(std::vector<std::string>{bin.string()}, env, log);
    std::string line = service->read_line(60s);
    EXPECT_THAT(line, testing::StartsWith("listening on "));
    target = "http://" + line.substr(13);
  }
};

TEST(ChecklistService, GoodGoServicePassesEveryItem) {
  Running svc(go_fixture("good"), {"GODEBUG=gctrace=1"}, "good");
  std::this_thread::sleep_for(1s);  // a few GC cycles in the log
  cl::Report r = cl::run_checklist({.target = svc.target, .source = kFixtures / "good", .log = svc.log,
                                    .lang = cl::Lang::go, .slow_path = "/slow", .cache = kWork / "cache"});
  std::cout << cl::to_text(r);
  for (const cl::Item& i : r.items) EXPECT_EQ(i.status, cl::Status::pass) << i.id << "\n" << joined(i);
  EXPECT_EQ(r.exit_status(), 0);
  EXPECT_GT(item(r, "gc-pause").details["pause"]["count"].get<int>(), 0);
  EXPECT_GT(item(r, "goroutine-dump").details["goroutines"].get<int>(), 0);
  EXPECT_THAT(joined(item(r, "handler-timeout")),
              AllOf(HasSubstr("main.go:66: slow (/slow): context.WithTimeout(r.Context(), requestTimeout) at main.go:51 in "
                              "withRequestTimeout, 3s"),
                    HasSubstr("GET /slow (bound 3s"), HasSubstr("status 503")));
  EXPECT_THAT(joined(item(r, "db-pool")), AllOf(HasSubstr("SetMaxOpenConns(20)"), HasSubstr("SetMaxIdleConns(10)"),
                                                HasSubstr("db.MaxOpenConnections = 20")));
  EXPECT_THAT(joined(item(r, "structured-logs")), AllOf(HasSubstr("Go 1.19 has no log/slog"), HasSubstr("trace_id found")));
}

TEST(ChecklistService, BadGoServiceFailsEveryItemWithItsEvidence) {
  Running svc(go_fixture("bad"), {"GODEBUG=gctrace=1,asyncpreemptoff=1", "GOMAXPROCS=2"}, "bad");
  std::this_thread::sleep_for(1s);
  cl::Report r = cl::run_checklist({.target = svc.target, .source = kFixtures / "bad", .log = svc.log,
                                    .lang = cl::Lang::go, .slow_path = "/slow", .cache = kWork / "cache",
                                    .log_wait = 2s});
  std::cout << cl::to_text(r);
  for (const cl::Item& i : r.items) EXPECT_EQ(i.status, cl::Status::fail) << i.id << "\n" << joined(i);
  EXPECT_EQ(r.exit_status(), 1);
  EXPECT_GT(item(r, "gc-pause").details["pause"]["max_ms"].get<double>(), 10);
  // No net/http/pprof: the "/" handler answers the dump's URL too.
  EXPECT_THAT(joined(item(r, "goroutine-dump")), HasSubstr("200, but not a goroutine dump"));
  EXPECT_THAT(joined(item(r, "handler-timeout")),
              AllOf(HasSubstr("main.go:20: hello (/): no context timeout"), HasSubstr("main.go:30: slow (/slow): no context timeout"),
                    HasSubstr("no answer after")));
  EXPECT_THAT(joined(item(r, "db-pool")), AllOf(HasSubstr("no SetMaxOpenConns call"), HasSubstr("no SetMaxIdleConns call"),
                                                HasSubstr("MaxOpenConnections = 0 (0: unlimited)")));
  EXPECT_THAT(joined(item(r, "structured-logs")), AllOf(HasSubstr("is not JSON"), HasSubstr("trace_id not in the log")));
}

TEST(ChecklistService, GocxxServiceHasNoGcAndItsSchedulerIsMeasured) {
  Running svc(CHECKLIST_GOCXX_SERVICE, {}, "gocxx");
  cl::Report r = cl::run_checklist({.target = svc.target, .source = kFixtures / "gocxx", .log = svc.log,
                                    .lang = cl::Lang::gocxx, .slow_path = "/slow", .trace_seconds = 1});
  std::cout << cl::to_text(r);
  const cl::Item& gc = item(r, "gc-pause");
  EXPECT_THAT(joined(gc), HasSubstr("gocxx has no garbage collector"));
  EXPECT_EQ(gc.details["source"], "trace");
  EXPECT_GT(gc.details["delay"]["count"].get<int>(), 0);  // the scheduler's latency, measured
  EXPECT_NE(gc.status, cl::Status::not_applicable);      // pass or fail: timing is not asserted here
  EXPECT_EQ(item(r, "goroutine-dump").status, cl::Status::pass);
  const cl::Item& h = item(r, "handler-timeout");
  EXPECT_EQ(h.status, cl::Status::pass) << joined(h);
  EXPECT_THAT(joined(h), AllOf(HasSubstr("context::with_timeout(r.context(), kRequestTimeout) at service.cpp:37, 3s"),
                               HasSubstr("status 503")));
  EXPECT_EQ(item(r, "db-pool").status, cl::Status::not_applicable);
  EXPECT_EQ(item(r, "structured-logs").status, cl::Status::pass) << joined(item(r, "structured-logs"));
}

TEST(ChecklistService, UnreachableTargetAndBadOptionsAreClearErrors) {
  // A port nothing listens on: bound, then closed.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  close(fd);
  const std::string target = "http://127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  try {
    cl::run_checklist({.target = target, .source = kFixtures / "gocxx", .lang = cl::Lang::gocxx});
    ADD_FAILURE() << "no Unreachable";
  } catch (const cl::Unreachable& e) {
    EXPECT_THAT(std::string(e.what()), AllOf(HasSubstr(target), HasSubstr("does not answer")));
  }
  EXPECT_THROW(cl::run_checklist({.target = "ftp://x", .source = kFixtures / "gocxx"}), std::invalid_argument);
  EXPECT_THROW(cl::run_checklist({.target = target, .source = kFixtures / "nope"}), std::invalid_argument);
}

}  // namespace

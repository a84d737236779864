// `assess checklist`: a running Go or gocxx service checked against the seed's production
// checklist (chapter 5's end), each item pass / fail / not-applicable with its evidence.
//
//   assess::checklist::Options o{.target = "http://127.0.0.1:8080", .source = "svc/",
//                                .log = "svc.log", .lang = Lang::go, .slow_path = "/slow"};
//   Report r = assess::checklist::run_checklist(o);  // throws Unreachable, std::invalid_argument
//   std::cout << to_text(r);  // or to_json(r).dump(2), to_markdown(r)
//   return r.exit_status();   // 0 all pass or n/a, 1 a fail
//
// The items (ids in the JSON):
//   gc-pause          GC pauses within 10 ms (Go: gctrace lines in the log; gocxx has no GC:
//                     the scheduler's runnable->running p99 from /debug/pprof/trace instead)
//   goroutine-dump    /debug/pprof/goroutine?debug=2 served and parses as a dump
//   handler-timeout   every handler bounds its work with a context timeout (static), and the
//                     slow path answers within 3x the bound (dynamic, with --slow-path)
//   db-pool           SetMaxOpenConns / SetMaxIdleConns set (static), and DBStats through
//                     /debug/vars or /metrics where exposed
//   structured-logs   JSON lines with trace_id, and a traceparent's trace id shows up in the log
// run_checklist runs its network probes in a gocxx::run of its own: call it outside one.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace assess::checklist {

enum class Lang { go, gocxx };
enum class Status { pass, fail, not_applicable };
const char* to_string(Lang);
const char* to_string(Status);  // "pass", "fail", "not-applicable"

struct Options {
  std::string target;                        // "http://127.0.0.1:8080"
  std::filesystem::path source;              // the service's source directory
  std::optional<std::filesystem::path> log;  // its log (stderr: gctrace and JSON lines)
  Lang lang = Lang::go;
  std::optional<std::string> slow_path;      // a path that takes longer than the bound
  std::string probe_path = "/";              // requested with a traceparent header
  std::filesystem::path cache;               // where goscan is built (Go)
  int trace_seconds = 2;                     // gocxx: the execution trace's length
  std::chrono::milliseconds log_wait{5000};  // how long the trace id may take to reach the log
  std::chrono::milliseconds timeout{10000};  // each request (the slow probe: 3x the bound)
};

struct Item {
  std::string id;
  std::string title;
  Status status = Status::not_applicable;
  std::vector<std::string> evidence;  // the first line says why for not-applicable
  nlohmann::json details = nlohmann::json::object();
};

struct Report {
  std::string target;
  Lang lang = Lang::go;
  std::string checked_at;  // RFC 3339, UTC
  std::vector<Item> items;
  int exit_status() const;  // 1 if an item failed, else 0
};

// The target did not answer (exit status 2).
struct Unreachable : std::runtime_error {
  using std::runtime_error::runtime_error;
};

Report run_checklist(const Options& options);

nlohmann::json to_json(const Report& r);
std::string to_markdown(const Report& r);
std::string to_text(const Report& r);

}  // namespace assess::checklist

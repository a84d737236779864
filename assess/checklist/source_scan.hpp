// The static half of `assess checklist`: a service's HTTP handlers (does each bound its work
// with a context timeout?) and its database pool settings, read from its source.
//
//   SourceScan go = scan_go("svc/", cache);   // builds goscan (assess/checklist/goscan) once
//   SourceScan cxx = scan_gocxx("svc/");       // handle_func lambdas and context::with_timeout
//   for (const HandlerInfo& h : go.handlers) if (!h.bound) ...;   // h.at is "file.go:12"
//
// Go's scan is a real parse (go/parser, go/types). The gocxx scan is textual: comments and
// string contents are blanked, then handle_func(pattern, handler) calls are found and the
// handler's body (a lambda, or a function by name) and the functions it calls, by name, are
// searched for context::with_timeout / with_deadline.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace assess::checklist {

struct Bound {
  std::string via;      // "context.WithTimeout", "http.TimeoutHandler", "context::with_timeout"
  std::string at;       // file:line of the call
  std::string in;       // the helper that makes the call, when not the handler itself
  std::string expr;     // the duration argument as written
  std::optional<std::int64_t> duration_ns;  // when constant
  std::string parent;   // the parent context as written
};

struct HandlerInfo {
  std::string name;
  std::string at;
  std::vector<std::string> patterns;  // where it is registered
  std::optional<Bound> bound;
  bool delegates = false;  // middleware: calls another handler's ServeHTTP
};

struct PoolSetting {
  std::string call;  // SetMaxOpenConns, SetMaxIdleConns, SetConnMaxLifetime, SetConnMaxIdleTime
  std::string at;
  std::string expr;
  std::optional<std::int64_t> value;
};

struct SourceScan {
  std::string tool;                   // what read the source
  std::size_t files = 0;
  std::vector<HandlerInfo> handlers;
  std::vector<std::string> db_opens;  // file:line of each sql.Open
  std::vector<PoolSetting> settings;
  std::vector<std::string> errors;    // files that did not parse
};

// Builds the analyzer into <cache>/goscan (again when its source is newer) and runs it on dir.
// Throws std::runtime_error with go's output when the build or the scan fails.
SourceScan scan_go(const std::filesystem::path& dir, const std::filesystem::path& cache);
// goscan's JSON output as a SourceScan.
SourceScan from_goscan_json(const nlohmann::json& j);

// Throws std::runtime_error when dir is not a readable directory.
SourceScan scan_gocxx(const std::filesystem::path& dir);

// "3s" for 3e9: Go's time.Duration.String() for the durations a handler bound uses.
std::string duration_text(std::int64_t ns);

}  // namespace assess::checklist

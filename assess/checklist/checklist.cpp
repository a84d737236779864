// run_checklist: the probes (one gocxx::run, the service's endpoints read with gocxx's HTTP
// client), the static scan, and the five items built from what they found.
#include "checklist/checklist.hpp"

#include <atomic>
#include <fstream>
#include <functional>
#include <iomanip>
#include <random>
#include <sstream>

#include <gocxx/gocxx.hpp>
#include <gocxx/http.hpp>

#include "checklist/evidence.hpp"
#include "checklist/source_scan.hpp"

namespace fs = std::filesystem;
namespace http = gocxx::http;
using namespace std::chrono_literals;

namespace assess::checklist {

const char* to_string(Lang l) { return l == Lang::go ? "go" : "gocxx"; }
const char* to_string(Status s) {
  switch (s) {
    case Status::pass: return "pass";
    case Status::fail: return "fail";
    case Status::not_applicable: return "not-applicable";
  }
  return "?";
}

int Report::exit_status() const {
  for (const Item& i : items)
    if (i.status == Status::fail) return 1;
  return 0;
}

namespace {

constexpr double kPauseBoundMs = 10;                 // the seed: GC pause within 10 ms
constexpr std::int64_t kSeedBoundNs = 3'000'000'000;  // the seed: WithTimeout(r.Context(), 3s)
constexpr double kLogShare = 0.9;                    // JSON lines with trace_id, of the program's

struct Fetched {
  int status = 0;  // 0: no answer (error says why)
  std::string body;
  std::string content_type;
  std::string error;
  double ms = 0;
};

Fetched fetch(const std::string& url, std::chrono::milliseconds timeout, const std::string& traceparent = {}) {
  Fetched f;
  auto [req, err] = http::new_request("GET", url);
  if (err) {
    f.error = err.message();
    return f;
  }
  if (!traceparent.empty()) req.header.set("Traceparent", traceparent);
  http::Client client;
  client.timeout = timeout;
  const auto start = std::chrono::steady_clock::now();
  auto [resp, rerr] = client.send(req);
  auto elapsed = [&] { return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count(); };
  if (rerr) {
    f.error = rerr.message();
    f.ms = elapsed();
    return f;
  }
  auto [body, berr] = resp.body.read_all();
  f.ms = elapsed();
  if (berr) {
    f.error = "reading the body: " + berr.message();
    return f;
  }
  f.status = resp.status_code;
  f.body = std::move(body);
  f.content_type = resp.header.get("Content-Type");
  return f;
}

std::string random_hex(std::size_t bytes) {
  std::random_device rd;
  std::ostringstream out;
  for (std::size_t i = 0; i < bytes; ++i) out << std::hex << std::setw(2) << std::setfill('0') << (rd() & 0xff);
  return out.str();
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::invalid_argument("--log " + p.string() + ": cannot read it");
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string ms(double v) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(v < 1 ? 3 : 1) << v << " ms";
  return out.str();
}

std::string share(std::size_t n, std::size_t of) {
  std::ostringstream out;
  out << n << "/" << of << " (" << std::fixed << std::setprecision(1)
      << (of ? 100.0 * static_cast<double>(n) / static_cast<double>(of) : 0.0) << "%)";
  return out.str();
}

nlohmann::json figures_json(const Figures& f) {
  return {{"count", f.count}, {"p50_ms", f.p50}, {"p99_ms", f.p99}, {"max_ms", f.max}};
}

// What the probes brought back from the running service.
struct Probes {
  Fetched root, dump, trace, vars, metrics, traced, slow;
  std::string trace_id;
  std::size_t trace_id_line = 0;  // where it showed up in the log
  double trace_id_wait_ms = 0;
  std::int64_t slow_bound_ns = 0;
  std::string log;                // the log as read after the traced request
};

// The largest constant bound in the source, else the seed's 3 s.
std::int64_t handler_bound(const SourceScan& scan) {
  std::int64_t bound = 0;
  for (const HandlerInfo& h : scan.handlers)
    if (h.bound && h.bound->duration_ns) bound = std::max(bound, *h.bound->duration_ns);
  return bound > 0 ? bound : kSeedBoundNs;
}

Probes probe(const Options& o, const SourceScan& scan) {
  Probes p;
  gocxx::run([&] {
    p.root = fetch(o.target + "/", o.timeout);
    if (p.root.status == 0) return;  // unreachable: nothing else to ask
    p.dump = fetch(o.target + "/debug/pprof/goroutine?debug=2", o.timeout);
    if (o.lang == Lang::gocxx) {
      // Requests while the trace records, so that it has goroutines becoming runnable to time.
      std::atomic<bool> stop{false};
      gocxx::sync::WaitGroup wg;
      wg.add(1);
      gocxx::go([&] {
        while (!stop.load()) {
          (void)fetch(o.target + "/", 2s);
          gocxx::time::sleep(5ms);
        }
        wg.done();
      });
      p.trace = fetch(o.target + "/debug/pprof/trace?seconds=" + std::to_string(o.trace_seconds),
                      o.timeout + std::chrono::seconds(o.trace_seconds));
      stop = true;
      wg.wait();
    } else {
      p.vars = fetch(o.target + "/debug/vars", o.timeout);
    }
    p.metrics = fetch(o.target + "/metrics", o.timeout);
    p.trace_id = random_hex(16);
    p.traced = fetch(o.target + o.probe_path, o.timeout, "00-" + p.trace_id + "-" + random_hex(8) + "-01");
    if (o.log) {
      const auto start = std::chrono::steady_clock::now();
      for (;;) {
        p.log = gocxx::blocking([&] { return read_file(*o.log); });
        p.trace_id_line = find_trace_id(p.log, p.trace_id);
        p.trace_id_wait_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
        if (p.trace_id_line || std::chrono::steady_clock::now() - start > o.log_wait) break;
        gocxx::time::sleep(100ms);
      }
    }
    if (o.slow_path) {
      p.slow_bound_ns = handler_bound(scan);
      p.slow = fetch(o.target + *o.slow_path, std::chrono::milliseconds(3 * p.slow_bound_ns / 1'000'000));
    }
  });
  return p;
}

// ---- the items -------------------------------------------------------------------------------

Item gc_pause(const Options& o, const Probes& p) {
  Item it{.id = "gc-pause", .title = "GC pause stable within 10 ms", .status = Status::not_applicable, .evidence = {}, .details = {}};
  if (o.lang == Lang::gocxx) {
    it.title = "Scheduler latency within 10 ms (gocxx has no GC)";
    it.evidence.push_back("gocxx has no garbage collector, so there are no GC pauses: the scheduler's "
                          "runnable->running delay p99 is checked instead");
    if (p.trace.status != 200) {
      it.status = Status::fail;
      it.evidence.push_back("GET /debug/pprof/trace?seconds=" + std::to_string(o.trace_seconds) + ": " +
                            (p.trace.status ? "status " + std::to_string(p.trace.status) : p.trace.error));
      return it;
    }
    nlohmann::json j = nlohmann::json::parse(p.trace.body, nullptr, false);
    SchedLatency s;
    try {
      s = scheduler_latency(j);
    } catch (const std::invalid_argument& e) {
      it.status = Status::fail;
      it.evidence.push_back("GET /debug/pprof/trace: " + std::string(e.what()));
      return it;
    }
    Figures f = figures(s.delays_ms);
    it.details = {{"source", "trace"}, {"trace_seconds", o.trace_seconds}, {"delay", figures_json(f)},
                  {"created", s.created}, {"unblocked", s.unblocked}, {"dropped_events", s.dropped_events}};
    it.evidence.push_back("GET /debug/pprof/trace?seconds=" + std::to_string(o.trace_seconds) + " (" +
                          std::to_string(p.trace.body.size()) + " bytes, requests sent meanwhile): " +
                          std::to_string(f.count) + " runnable->running delays (" + std::to_string(s.created) +
                          " created, " + std::to_string(s.unblocked) + " unblocked), p50 " + ms(f.p50) +
                          ", p99 " + ms(f.p99) + ", max " + ms(f.max));
    if (f.count == 0) {
      it.evidence.push_back("the trace has no goroutine becoming runnable: nothing to measure");
      return it;
    }
    it.status = f.p99 <= kPauseBoundMs ? Status::pass : Status::fail;
    it.evidence.push_back("p99 " + ms(f.p99) + (f.p99 <= kPauseBoundMs ? " <= " : " > ") + ms(kPauseBoundMs) +
                          " (p99, not max: one preempted thread on a shared machine should not fail a service)");
    return it;
  }
  if (!o.log) {
    it.evidence.push_back("no --log: the gctrace lines (GODEBUG=gctrace=1 on stderr) cannot be read");
    return it;
  }
  GcTrace gc = parse_gctrace(p.log);
  if (gc.pauses_ms.empty()) {
    it.evidence.push_back(o.log->string() + " has no gctrace lines: run the service with GODEBUG=gctrace=1 "
                          "and its stderr in the log");
    return it;
  }
  Figures f = figures(gc.pauses_ms);
  it.details = {{"source", "gctrace"}, {"pause", figures_json(f)}, {"max_stw_phase_ms", gc.max_stw_ms},
                {"forced", gc.forced}, {"bound_ms", kPauseBoundMs}};
  it.evidence.push_back(o.log->string() + ": " + std::to_string(f.count) + " GC cycles (gctrace from line " +
                        std::to_string(gc.first_line) + ", " + std::to_string(gc.forced) +
                        " forced); STW pause per cycle (1st + 3rd clock figure) p50 " + ms(f.p50) + ", p99 " +
                        ms(f.p99) + ", max " + ms(f.max) + "; longest single STW phase " + ms(gc.max_stw_ms));
  it.status = f.max <= kPauseBoundMs ? Status::pass : Status::fail;
  it.evidence.push_back("max " + ms(f.max) + (f.max <= kPauseBoundMs ? " <= " : " > ") + ms(kPauseBoundMs) +
                        " (max, not p99: \"stable within 10 ms\" bounds every pause, and a log holds too few "
                        "cycles for a p99 to differ from the max)");
  return it;
}

Item goroutine_dump(const Probes& p) {
  Item it{.id = "goroutine-dump", .title = "/debug/pprof/goroutine?debug=2 served", .status = Status::fail, .evidence = {}, .details = {}};
  const std::string what = "GET /debug/pprof/goroutine?debug=2: ";
  if (p.dump.status != 200) {
    it.evidence.push_back(what + (p.dump.status ? "status " + std::to_string(p.dump.status) +
                                                      " (is net/http/pprof imported / debug::register_handlers called?)"
                                                : p.dump.error));
    it.details = {{"status", p.dump.status}};
    return it;
  }
  Dump d = parse_goroutine_dump(p.dump.body);
  it.details = {{"status", 200}, {"bytes", p.dump.body.size()}, {"goroutines", d.goroutines}, {"states", d.states}};
  if (!d.ok) {
    it.evidence.push_back(what + "200, but not a goroutine dump: " + d.error);
    return it;
  }
  it.status = Status::pass;
  std::string states;
  for (const auto& [state, n] : d.states) states += (states.empty() ? "" : ", ") + state + " " + std::to_string(n);
  it.evidence.push_back(what + "200, " + std::to_string(p.dump.body.size()) + " bytes, " +
                        std::to_string(d.goroutines) + " goroutines (" + states + ")");
  return it;
}

Item handler_timeout(const Options& o, const SourceScan& scan, const Probes& p) {
  Item it{.id = "handler-timeout", .title = "Every HTTP handler bounds its work with a context timeout",
          .status = Status::not_applicable, .evidence = {}, .details = {}};
  it.evidence.push_back(scan.tool + " of " + o.source.string() + ": " + std::to_string(scan.files) + " files, " +
                        std::to_string(scan.handlers.size()) + " handlers");
  for (const std::string& e : scan.errors) it.evidence.push_back("does not parse: " + e);
  nlohmann::json handlers = nlohmann::json::array();
  std::size_t unbounded = 0;
  for (const HandlerInfo& h : scan.handlers) {
    std::string patterns;
    for (const std::string& pat : h.patterns) patterns += (patterns.empty() ? " (" : ", ") + pat;
    if (!patterns.empty()) patterns += ")";
    nlohmann::json j = {{"name", h.name}, {"at", h.at}, {"patterns", h.patterns}, {"bounded", h.bound.has_value()},
                        {"delegates", h.delegates}};
    if (!h.bound && h.delegates) {
      it.evidence.push_back(h.at + ": " + h.name + patterns +
                            ": middleware without a timeout (delegates to ServeHTTP): the handlers it calls are judged");
    } else if (!h.bound) {
      ++unbounded;
      it.evidence.push_back(h.at + ": " + h.name + patterns + ": no context timeout");
    } else {
      const Bound& b = *h.bound;
      std::string d = b.duration_ns ? duration_text(*b.duration_ns) : "not constant: " + b.expr;
      it.evidence.push_back(h.at + ": " + h.name + patterns + ": " + b.via + "(" + (b.parent.empty() ? "" : b.parent + ", ") +
                            b.expr + ") at " + b.at + (b.in.empty() || b.in == h.name ? "" : " in " + b.in) +
                            ", " + d + (b.duration_ns && *b.duration_ns != kSeedBoundNs ? " (the seed: 3s)" : ""));
      j["via"] = b.via;
      j["bound_at"] = b.at;
      j["expr"] = b.expr;
      if (b.duration_ns) j["duration_ns"] = *b.duration_ns;
    }
    handlers.push_back(std::move(j));
  }
  it.details["handlers"] = handlers;
  if (scan.handlers.empty()) {
    it.evidence.insert(it.evidence.begin(), "the source has no HTTP handlers");
    return it;
  }
  it.status = unbounded == 0 ? Status::pass : Status::fail;
  if (o.slow_path) {
    const double bound_ms = static_cast<double>(p.slow_bound_ns) / 1e6;
    std::string what = "GET " + *o.slow_path + " (bound " + duration_text(p.slow_bound_ns) + ", the checker waits 3x: " +
                       ms(3 * bound_ms) + "): ";
    it.details["slow_probe"] = {{"path", *o.slow_path}, {"status", p.slow.status}, {"ms", p.slow.ms}, {"bound_ns", p.slow_bound_ns}};
    if (p.slow.status == 0) {
      it.status = Status::fail;
      it.evidence.push_back(what + "no answer after " + ms(p.slow.ms) + " (" + p.slow.error + "): the handler hangs past its bound");
    } else {
      it.evidence.push_back(what + "status " + std::to_string(p.slow.status) + " after " + ms(p.slow.ms) +
                            (p.slow.status < 400 ? " (a success: is the path slow?)" : ""));
    }
  } else {
    it.evidence.push_back("no --slow-path: the dynamic probe was not run");
  }
  return it;
}

// The pool's figures from expvar's /debug/vars (an object with sql.DBStats' fields) or
// /metrics (the Prometheus sql collector's go_sql_max_open_connections).
std::optional<std::pair<std::string, std::int64_t>> exposed_max_open(const Probes& p) {
  if (p.vars.status == 200) {
    nlohmann::json j = nlohmann::json::parse(p.vars.body, nullptr, false);
    std::optional<std::pair<std::string, std::int64_t>> found;
    std::function<void(const nlohmann::json&, const std::string&)> walk = [&](const nlohmann::json& v, const std::string& path) {
      if (found || !v.is_object()) return;
      if (auto m = v.find("MaxOpenConnections"); m != v.end() && m->is_number_integer()) {
        found = {"/debug/vars " + path + ".MaxOpenConnections", m->get<std::int64_t>()};
        return;
      }
      for (const auto& [k, child] : v.items()) walk(child, path.empty() ? k : path + "." + k);
    };
    walk(j, "");
    if (found) return found;
  }
  if (p.metrics.status == 200) {
    std::istringstream in(p.metrics.body);
    for (std::string line; std::getline(in, line);)
      if (line.starts_with("go_sql_max_open_connections")) {
        std::size_t sp = line.rfind(' ');
        try {
          return std::make_pair("/metrics " + line.substr(0, sp), static_cast<std::int64_t>(std::stod(line.substr(sp + 1))));
        } catch (const std::exception&) {
        }
      }
  }
  return std::nullopt;
}

Item db_pool(const Options& o, const SourceScan& scan, const Probes& p) {
  Item it{.id = "db-pool", .title = "Database pool limits set (MaxOpenConns 20, MaxIdleConns 10 in the seed)",
          .status = Status::not_applicable, .evidence = {}, .details = {}};
  if (o.lang == Lang::gocxx) {
    it.evidence.push_back("gocxx has no database/sql pool to configure");
    return it;
  }
  if (scan.db_opens.empty()) {
    it.evidence.push_back("the source opens no database (no sql.Open / sql.OpenDB)");
    return it;
  }
  std::string opens;
  for (const std::string& at : scan.db_opens) opens += (opens.empty() ? "" : ", ") + at;
  it.evidence.push_back("sql.Open at " + opens);
  nlohmann::json settings = nlohmann::json::array();
  bool ok = true;
  for (const char* call : {"SetMaxOpenConns", "SetMaxIdleConns"}) {
    const PoolSetting* s = nullptr;
    for (const PoolSetting& x : scan.settings)
      if (x.call == call) s = &x;
    if (!s) {
      ok = false;
      it.evidence.push_back(std::string("no ") + call + " call: " +
                            (call == std::string_view("SetMaxOpenConns") ? "connections are unlimited"
                                                                         : "the idle pool keeps Go's default of 2"));
      continue;
    }
    const std::int64_t seed = call == std::string_view("SetMaxOpenConns") ? 20 : 10;
    std::string value = s->value ? std::to_string(*s->value) : "not constant: " + s->expr;
    if (s->value && *s->value <= 0) ok = false;
    it.evidence.push_back(s->at + ": " + call + "(" + s->expr + ")" + (s->value && *s->value <= 0 ? ": no limit" : "") +
                          (s->value && *s->value > 0 && *s->value != seed ? " (the seed: " + std::to_string(seed) + ")" : ""));
    settings.push_back({{"call", call}, {"at", s->at}, {"expr", s->expr}, {"value", s->value ? nlohmann::json(*s->value) : nlohmann::json()}});
  }
  for (const PoolSetting& x : scan.settings)
    if (x.call != "SetMaxOpenConns" && x.call != "SetMaxIdleConns") it.evidence.push_back(x.at + ": " + x.call + "(" + x.expr + ")");
  it.details["settings"] = settings;
  if (auto exposed = exposed_max_open(p)) {
    it.details["exposed"] = {{"where", exposed->first}, {"max_open", exposed->second}};
    if (exposed->second <= 0) ok = false;
    it.evidence.push_back(exposed->first + " = " + std::to_string(exposed->second) +
                          (exposed->second <= 0 ? " (0: unlimited)" : ""));
  } else {
    it.evidence.push_back("DBStats not exposed (no MaxOpenConnections in /debug/vars, no go_sql_max_open_connections in "
                          "/metrics): static check only");
  }
  it.status = ok ? Status::pass : Status::fail;
  return it;
}

Item structured_logs(const Options& o, const Probes& p) {
  Item it{.id = "structured-logs", .title = "Structured logs with a trace id", .status = Status::not_applicable,
          .evidence = {}, .details = {}};
  if (!o.log) {
    it.evidence.push_back("no --log: the log cannot be read");
    return it;
  }
  if (o.lang == Lang::go)
    it.evidence.push_back("the seed names Go 1.21's log/slog and Loki; Go 1.19 has no log/slog, so the log's format "
                          "(JSON lines) and its trace_id field are checked, whatever writes them");
  LogStats l = read_log(p.log);
  it.details = {{"lines", l.lines}, {"runtime_lines", l.runtime_lines}, {"json_objects", l.json_objects},
                {"with_trace_id", l.with_trace_id}, {"trace_id", p.trace_id}, {"trace_id_line", p.trace_id_line},
                {"probe_status", p.traced.status}};
  it.evidence.push_back(o.log->string() + ": " + std::to_string(l.lines) + " program lines (" +
                        std::to_string(l.runtime_lines) + " Go runtime lines left out), JSON objects " +
                        share(l.json_objects, l.lines) + ", with trace_id " + share(l.with_trace_id, l.lines));
  if (l.first_plain_line)
    it.evidence.push_back("line " + std::to_string(l.first_plain_line) + " is not JSON: " + l.first_plain);
  bool ok = l.lines > 0 && static_cast<double>(l.with_trace_id) >= kLogShare * static_cast<double>(l.lines);
  const std::string sent = "GET " + o.probe_path + " with traceparent 00-" + p.trace_id + "-...-01 (status " +
                           std::to_string(p.traced.status) + ")";
  if (p.trace_id_line) {
    it.evidence.push_back(sent + ": trace_id found at line " + std::to_string(p.trace_id_line) + " after " + ms(p.trace_id_wait_ms));
  } else {
    ok = false;
    it.evidence.push_back(sent + ": trace_id not in the log after " + ms(p.trace_id_wait_ms));
  }
  if (l.lines == 0) it.evidence.push_back("the log has no program lines");
  it.status = ok ? Status::pass : Status::fail;
  return it;
}

std::string now_rfc3339() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

Report run_checklist(const Options& o) {
  if (!o.target.starts_with("http://"))
    throw std::invalid_argument("--target must be an http:// URL, not \"" + o.target + "\"");
  if (!fs::is_directory(o.source)) throw std::invalid_argument("--source " + o.source.string() + ": not a directory");
  if (o.log && !fs::is_regular_file(*o.log)) throw std::invalid_argument("--log " + o.log->string() + ": no such file");
  if (o.trace_seconds < 1 || o.trace_seconds > 60) throw std::invalid_argument("trace seconds must be 1 to 60");
  Options opts = o;
  while (opts.target.ends_with('/')) opts.target.pop_back();
  if (!opts.probe_path.starts_with('/')) throw std::invalid_argument("probe path must start with /");
  if (opts.slow_path && !opts.slow_path->starts_with('/')) throw std::invalid_argument("--slow-path must start with /");

  const SourceScan scan = opts.lang == Lang::go ? scan_go(opts.source, opts.cache) : scan_gocxx(opts.source);
  Probes p = probe(opts, scan);
  if (p.root.status == 0)
    throw Unreachable("target " + opts.target + " does not answer (GET /: " + p.root.error + ")");
  Report r{.target = opts.target, .lang = opts.lang, .checked_at = now_rfc3339(), .items = {}};
  r.items.push_back(gc_pause(opts, p));
  r.items.push_back(goroutine_dump(p));
  r.items.push_back(handler_timeout(opts, scan, p));
  r.items.push_back(db_pool(opts, scan, p));
  r.items.push_back(structured_logs(opts, p));
  return r;
}

}  // namespace assess::checklist

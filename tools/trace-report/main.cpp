// gocxx-trace-report: a report (Markdown and a self-contained HTML page) from a gocxx execution
// trace and/or goroutine dumps, Go's or gocxx's (gocxx/report.hpp does the work).
//
//   gocxx-trace-report trace.json --out report/
//   gocxx-trace-report trace.json --dump dump.txt --out report/
//   gocxx-trace-report --dump d1.txt --dump d2.txt --dump d3.txt --dump-interval 30 --out report/
//
// Exit status: 0 the report was written; 1 an input could not be read or is not a trace or a
// dump, or the report could not be written; 2 bad usage.
#include <gocxx/report.hpp>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace {

constexpr const char* kUsage =
    "usage: gocxx-trace-report [TRACE.json] [--dump FILE]... [--dump-interval SECONDS]\n"
    "                          [--title TEXT] [--top N] --out DIR\n"
    "Writes DIR/report.md and DIR/report.html: the analysis of a gocxx execution trace\n"
    "(GOCXX_TRACE, gocxx::trace) and of goroutine dumps in Go's text format (debug=2 or\n"
    "SIGQUIT tracebacks, or debug=1 profiles; from Go or gocxx). Several dumps add a growth\n"
    "analysis; their times are the files' modification times unless --dump-interval gives the\n"
    "seconds between them.\n"
    "Exit status: 0 written, 1 unreadable or invalid input or output, 2 bad usage.\n";

struct Usage : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Args {
  std::string trace, out, title;
  std::vector<std::string> dumps;
  double interval = -1;
  int top = 10;
};

double parse_number(const std::string& flag, const std::string& text) {
  double v = 0;
  auto res = std::from_chars(text.data(), text.data() + text.size(), v);
  if (res.ec != std::errc() || res.ptr != text.data() + text.size() || v < 0) {
    throw Usage(flag + ": not a number >= 0: " + text);
  }
  return v;
}

Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw Usage(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--out" || arg == "-o") {
      a.out = value();
    } else if (arg == "--dump") {
      a.dumps.push_back(value());
    } else if (arg == "--dump-interval") {
      a.interval = parse_number(arg, value());
    } else if (arg == "--title") {
      a.title = value();
    } else if (arg == "--top") {
      a.top = static_cast<int>(parse_number(arg, value()));
      if (a.top < 1) throw Usage("--top must be at least 1");
    } else if (arg == "-h" || arg == "--help") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    } else if (arg.size() > 1 && arg[0] == '-') {
      throw Usage("unknown flag " + arg);
    } else if (a.trace.empty()) {
      a.trace = arg;
    } else {
      throw Usage("one trace at most (got " + a.trace + " and " + arg + ")");
    }
  }
  if (a.out.empty()) throw Usage("--out DIR is required");
  if (a.trace.empty() && a.dumps.empty()) throw Usage("give a trace, a --dump, or both");
  return a;
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream text;
  if (f) text << f.rdbuf();
  if (!f || f.bad()) throw std::runtime_error("cannot read " + path + ": " + std::strerror(errno));
  return text.str();
}

// Seconds since the first dump: --dump-interval apart, or by modification time.
double dump_time(const Args& a, std::size_t i) {
  if (a.interval >= 0) return a.interval * static_cast<double>(i);
  auto t = [&](std::size_t k) { return std::filesystem::last_write_time(a.dumps[k]); };
  return std::chrono::duration<double>(t(i) - t(0)).count();
}

int run(const Args& a) {
  std::string title = a.title;
  if (title.empty()) {
    title = a.trace.empty() ? "Goroutine report"
                            : "Trace report: " + std::filesystem::path(a.trace).filename().string();
  }
  gocxx::report::Document doc(title);
  if (!a.trace.empty()) gocxx::report::add_trace_analysis(doc, gocxx::report::analyze_trace(a.trace), a.top);
  std::vector<std::pair<double, gocxx::report::DumpAnalysis>> dumps;
  for (std::size_t i = 0; i < a.dumps.size(); ++i) {
    try {
      dumps.emplace_back(dump_time(a, i), gocxx::report::analyze_dump(read_file(a.dumps[i])));
    } catch (const std::exception& e) {
      throw std::runtime_error(a.dumps[i] + ": " + e.what());
    }
  }
  if (!dumps.empty()) gocxx::report::add_leak_analysis(doc, dumps.back().second, a.top);
  if (dumps.size() > 1) gocxx::report::add_growth_analysis(doc, dumps, a.top);
  doc.write(a.out);
  std::printf("wrote %s and %s\n", (std::filesystem::path(a.out) / "report.md").c_str(),
              (std::filesystem::path(a.out) / "report.html").c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  try {
    args = parse_args(argc, argv);
  } catch (const Usage& e) {
    std::fprintf(stderr, "gocxx-trace-report: %s\n%s", e.what(), kUsage);
    return 2;
  }
  try {
    return run(args);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gocxx-trace-report: %s\n", e.what());
    return 1;
  }
}

// gocxx-pressure end to end, as a user runs it: it starts the target itself (-- PROGRAM
// {port}), drives load through its proxy, and its exit status and report directory are
// checked. Targets: the leaky gocxx service (pressure_target.cpp) and the leaky Go service
// (tests/go/leaky, built here with Debian's golang-go), each leaky and fixed; one run crosses
// 5000 goroutines for real; bad usage, an unreachable target and targets that fail to start or
// die mid-run. Loopback only.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "temp_dir.hpp"

extern char** environ;

namespace {

using ::testing::HasSubstr;
using gocxx::test::TempDir;
namespace fs = std::filesystem;

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// A temporary directory, removed with its contents unless the test failed (then kept for a
// look, and named in the failure).
struct PressureRun {
  int exit_code = -1;
  std::string output;  // gocxx-pressure's stdout and stderr
  std::string report;  // report.md ("" if missing): Markdown escapes _ and > outside code
  std::string html;    // report.html
  fs::path dir;
};

// Runs gocxx-pressure --report DIR/report with args, killing it after 150 s.
PressureRun pressure(const TempDir& tmp, std::vector<std::string> args) {
  PressureRun r;
  r.dir = tmp.path() / "report";
  args.insert(args.begin(), {GOCXX_PRESSURE_BIN, "--report", r.dir.string()});  // before any --
  std::string log = (tmp.path() / "pressure.log").string();
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid;
  int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  EXPECT_EQ(rc, 0) << "cannot start " << GOCXX_PRESSURE_BIN;
  if (rc != 0) return r;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(150);
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      ADD_FAILURE() << "gocxx-pressure did not finish in 150 s";
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.output = read_file(log);
  r.report = read_file(r.dir / "report.md");
  r.html = read_file(r.dir / "report.html");
  return r;
}

// The leak test's settings: a low threshold and short phases, so that a run takes seconds.
std::vector<std::string> quick(std::vector<std::string> target_argv,
                               const std::string& path = "/work") {
  std::vector<std::string> args = {"--target",
                                   "http://127.0.0.1:{port}" + path,
                                   "--rate",
                                   "100/s",
                                   "--duration",
                                   "4s",
                                   "--threshold",
                                   "200",
                                   "--interval",
                                   "250ms",
                                   "--trace-seconds",
                                   "1",
                                   "--settle",
                                   "500ms",
                                   "--"};
  args.insert(args.end(), target_argv.begin(), target_argv.end());
  return args;
}

// Builds tests/go/leaky with Debian's go (GOPATH mode: no module, no network).
std::string build_go_leaky(const TempDir& tmp) {
  std::string bin = (tmp.path() / "leaky").string();
  std::string cmd = "cd " + tmp.path().string() +
                    " && GO111MODULE=off GOFLAGS= GOCACHE=" + (tmp.path() / "gocache").string() +
                    " GOPATH=" + (tmp.path() / "gopath").string() + " " GOCXX_GO " build -o " +
                    bin + " " GOCXX_GO_LEAKY_SRC "/main.go";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  return bin;
}

void expect_files(const PressureRun& r, std::vector<std::string> names) {
  for (const auto& n : names) EXPECT_TRUE(fs::exists(r.dir / n)) << n << " missing in " << r.dir;
}

// Exit status 1, and the verdict and the report name the leaking creation site with its
// goroutines' wait reason ("chan send"). Markdown escapes _ and >: the HTML is checked.
void expect_leak_at(const PressureRun& r, const std::string& site) {
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("leak suspected: threshold: "));
  EXPECT_THAT(r.output, HasSubstr("the top growing creation site is " + site + " at "));
  EXPECT_THAT(r.output, ::testing::ContainsRegex("goroutines \\([0-9]+ chan send\\)"));
  EXPECT_THAT(r.html, HasSubstr(site));
  EXPECT_THAT(r.html, HasSubstr("chan send"));
}

TEST(PressureE2E, LeakyGocxxServiceIsALeakNamingTheHandler) {
  TempDir tmp("gocxx-pressure-e2e", TempDir::Keep::if_failed);
  PressureRun r = pressure(tmp, quick({GOCXX_PRESSURE_TARGET_BIN, "127.0.0.1:{port}"}));
  expect_leak_at(r, "pressure_target::handle_work");
  expect_files(r, {"report.html", "samples.csv", "latency.csv", "target.log", "dump-baseline.txt",
                   "dump-episode-1.txt", "dump-end.txt", "trace-episode-1.json"});
  EXPECT_THAT(read_file(r.dir / "trace-episode-1.json"), HasSubstr("traceEvents"));
}

TEST(PressureE2E, FixedGocxxServiceIsClean) {
  TempDir tmp("gocxx-pressure-e2e", TempDir::Keep::if_failed);
  PressureRun r = pressure(tmp, quick({GOCXX_PRESSURE_TARGET_BIN, "127.0.0.1:{port}", "--fixed"}));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.report, HasSubstr("clean: no leak episode"));
  EXPECT_THAT(r.report, HasSubstr("No leak episode began."));
  expect_files(r, {"report.html", "samples.csv", "dump-baseline.txt", "dump-end.txt"});
  EXPECT_FALSE(fs::exists(r.dir / "dump-episode-1.txt"));
}

TEST(PressureE2E, LeakyGoServiceIsALeakNamingTheHandler) {
  TempDir tmp("gocxx-pressure-e2e", TempDir::Keep::if_failed);
  std::string leaky = build_go_leaky(tmp);
  PressureRun r = pressure(tmp, quick({leaky, "-addr", "127.0.0.1:{port}"}));
  expect_leak_at(r, "main.handleWork");
  EXPECT_THAT(r.report, HasSubstr("go tool trace trace-episode-1.out"));
  // Go's binary trace, kept as it came: go tool trace reads it.
  EXPECT_EQ(read_file(r.dir / "trace-episode-1.out").substr(0, 8), "go 1.19 ");
  std::string cmd = "cd " + r.dir.string() + " && GOCACHE=" + (tmp.path() / "gocache").string() +
                    " " GOCXX_GO " tool trace -pprof=sched trace-episode-1.out > /dev/null";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

TEST(PressureE2E, FixedGoServiceIsClean) {
  TempDir tmp("gocxx-pressure-e2e", TempDir::Keep::if_failed);
  std::string leaky = build_go_leaky(tmp);
  PressureRun r = pressure(tmp, quick({leaky, "-addr", "127.0.0.1:{port}", "-fixed"}));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.report, HasSubstr("clean: no leak episode"));
}

// The article's rule as it stands, "if goroutines exceed 5000, trigger leak analysis": the
// default threshold, crossed for real by 2000 leaking requests a second for 4 s.
TEST(PressureE2E, Crosses5000GoroutinesForReal) {
  TempDir tmp("gocxx-pressure-e2e", TempDir::Keep::if_failed);
  PressureRun r =
      pressure(tmp, {"--target", "http://127.0.0.1:{port}/work", "--rate", "2000/s", "--duration",
                     "4s", "--interval", "500ms", "--trace-seconds", "1", "--settle", "500ms", "--",
                     GOCXX_PRESSURE_TARGET_BIN, "127.0.0.1:{port}"});
  expect_leak_at(r, "pressure_target::handle_work");
  EXPECT_THAT(r.output, HasSubstr(" goroutines > 5000 at "));
  // The episode's dump holds them all: one "goroutine N [state]:" header each.
  std::string dump = read_file(r.dir / "dump-episode-1.txt");
  EXPECT_GT(count(dump, "]:\n"), 5000u);
  EXPECT_GT(count(dump, "[chan send]:\n"), 4000u);
}

TEST(PressureE2E, BadUsageExitsWithStatus2AndSaysWhy) {
  TempDir tmp("gocxx-pressure-e2e", TempDir::Keep::if_failed);
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {{"--target", "http://127.0.0.1:1/", "--bogus"},
            "flag provided but not defined: -bogus"},
           {{"--target", "http://127.0.0.1:1/", "--rate", "fast"},
            "invalid value \"fast\" for flag --rate"},
           {{"--target", "http://127.0.0.1:1/", "--duration", "-5s"}, "for flag --duration"},
           {{"--target", "http://127.0.0.1:1/", "--jitter", "150%"}, "out of range"},
           {{"--target", "http://127.0.0.1:1/", "--faults", "lag=1s"}, "invalid faults \"lag=1s\""},
           {{"--rate", "10/s"}, "--target is required"},
       }) {
    PressureRun r = pressure(tmp, c.args);
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_THAT(r.output, HasSubstr(c.message));
    EXPECT_THAT(r.output, HasSubstr("usage: gocxx-pressure"));
  }
}

// A loopback port nothing listens on: bound, then let go.
int closed_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), len), 0);
  EXPECT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  close(fd);
  return ntohs(a.sin_port);
}

TEST(PressureE2E, UnreachableTargetExitsWithStatus3AndAReport) {
  TempDir tmp("gocxx-pressure-e2e", TempDir::Keep::if_failed);
  std::string url = "http://127.0.0.1:" + std::to_string(closed_port()) + "/";
  PressureRun r = pressure(tmp, {"--target", url, "--duration", "1s"});
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_THAT(r.output, HasSubstr("target unreachable"));
  EXPECT_THAT(r.report, HasSubstr("target failed: target unreachable"));
  EXPECT_THAT(r.report, HasSubstr("connection refused"));
}

TEST(PressureE2E, TargetThatDiesMidRunKeepsThePartialReport) {
  TempDir tmp("gocxx-pressure-e2e", TempDir::Keep::if_failed);
  PressureRun r =
      pressure(tmp, {"--target", "http://127.0.0.1:{port}/work", "--rate", "50/s", "--duration",
                     "10s", "--interval", "200ms", "--", GOCXX_PRESSURE_TARGET_BIN,
                     "127.0.0.1:{port}", "--exit-after", "1500"});
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_THAT(r.report, HasSubstr("target failed: the target exited with status 1 at "));
  EXPECT_THAT(read_file(r.dir / "target.log"), HasSubstr("exiting on purpose"));
  expect_files(r, {"report.html", "samples.csv", "latency.csv", "dump-baseline.txt"});
  EXPECT_GT(count(read_file(r.dir / "samples.csv"), "\n"), 3u) << "samples before it died";
}

TEST(PressureE2E, TargetThatFailsToStartExitsWithStatus3) {
  TempDir tmp("gocxx-pressure-e2e", TempDir::Keep::if_failed);
  PressureRun r = pressure(tmp, {"--duration", "1s", "--exec", "echo broken config; exit 7"});
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_THAT(r.report, HasSubstr("exited with status 7 during startup"));
  EXPECT_THAT(read_file(r.dir / "target.log"), HasSubstr("broken config"));
  PressureRun missing = pressure(tmp, {"--duration", "1s", "--", "/nonexistent/service", "{port}"});
  EXPECT_EQ(missing.exit_code, 3) << missing.output;
  EXPECT_THAT(missing.output, HasSubstr("/nonexistent/service"));
}

}  // namespace

// The grading sandbox: normal runs, each abuse a candidate may try (loops, sleeps, fork bombs,
// output floods, memory hogs, reading the host's files, the network) ending in a clear verdict
// within the limits, real Go toolchain runs inside, concurrent runs, and the degraded modes.
// After every abuse: nothing it started is left, and the sandbox still works.
//
// Where probe() says a layer is there, the tests assert that runs get it. Set
// ASSESS_SANDBOX_EXPECT (e.g. "netns,mountns,pidns,cgroup,uid") on a machine that must have
// those layers, so that a sandbox quietly degraded there fails instead of skipping.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gocxx/gocxx.hpp>

#include "engine/sandbox.hpp"
#include "engine/sandbox_detail.hpp"

namespace fs = std::filesystem;
namespace sandbox = assess::sandbox;
using sandbox::Status;
using namespace std::chrono_literals;

namespace {

bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// The uid a run has, as it sees it: 65534 where the grader is root or runs are in a user
// namespace, else the grader's.
std::string sandbox_uid() {
  const sandbox::Capabilities caps = sandbox::probe();
  return caps.drop_privileges || caps.user_namespace ? "65534" : std::to_string(::getuid());
}

// A unique word for a test's processes, found in their command lines.
std::string make_token() {
  static std::atomic<int> n{0};
  return "sbxtok" + std::to_string(::getpid()) + "x" + std::to_string(n++);
}

// Processes whose command line contains token (anywhere on the machine: the run's PID
// namespace is inside ours).
int alive(const std::string& token) {
  int count = 0;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(e.path() / "cmdline", std::ios::binary);
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (cmdline.find(token) != std::string::npos) ++count;
  }
  return count;
}

// The cgroups the sandbox made for this process's runs (they must all be gone after a run).
int leftover_cgroups() {
  const std::string prefix = "gocxx-sandbox-" + std::to_string(::getpid()) + "-";
  int count = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator("/sys/fs/cgroup", fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_directory() && it->path().filename().string().starts_with(prefix)) {
      ++count;
      it.disable_recursion_pending();
    }
  }
  return count;
}

// Every level waits for its pipeline, so the processes pile up until forks fail (with the
// usual `&`, the first shell may exit, and end the run, before the limit is reached).
constexpr const char* kForkBomb = "bomb() { bomb | bomb; }; bomb";

class SandboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "sandbox-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    scratch_ = tmpl;
    token_ = make_token();
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(scratch_, ec);
  }

  sandbox::Spec sh(const std::string& script) {
    sandbox::Spec spec;
    spec.argv = {"/bin/sh", "-c", script + "\n: " + token_};
    spec.workdir = scratch_;
    spec.limits.wall = 20s;
    return spec;
  }

  // Nothing of the run is left, and the sandbox still runs a command normally.
  void expect_clean_and_healthy() {
    EXPECT_EQ(alive(token_), 0) << "a process of the run survived it";
    EXPECT_EQ(leftover_cgroups(), 0);
    sandbox::Outcome after = sandbox::run(sh("echo fine"));
    EXPECT_TRUE(after.ok()) << after.message << after.stderr_data;
    EXPECT_EQ(after.stdout_data, "fine\n");
  }

  // The layers probe() found must be on every run.
  static void expect_isolation(const sandbox::Outcome& out) {
    const sandbox::Capabilities caps = sandbox::probe();
    EXPECT_EQ(has(out.isolation, "netns"), caps.net_namespace);
    EXPECT_EQ(has(out.isolation, "mountns"), caps.mount_namespace);
    EXPECT_EQ(has(out.isolation, "pidns"), caps.pid_namespace);
    EXPECT_EQ(has(out.isolation, "uid 65534"), caps.drop_privileges);
    EXPECT_EQ(has(out.isolation, "userns"), caps.user_namespace);
    EXPECT_EQ(has(out.isolation, "cgroup v1") || has(out.isolation, "cgroup v2"), caps.cgroup);
    EXPECT_TRUE(has(out.isolation, "rlimits"));
  }

  fs::path scratch_;
  std::string token_;
};

// Root with CAP_SYS_ADMIN in the machine's own user namespace (not a container's) can make
// every namespace (unless ASSESS_SANDBOX_WITHOUT turns some off).
bool namespaces_certain() {
  std::ifstream status("/proc/self/status"), uid_map("/proc/self/uid_map");
  std::string line, cap_eff;
  while (std::getline(status, line)) {
    if (line.starts_with("CapEff:")) cap_eff = line.substr(7);
  }
  long first = -1, outside = -1, count = 0;
  uid_map >> first >> outside >> count;
  const bool initial_userns = first == 0 && outside == 0 && count == 4294967295L;
  const bool sys_admin = !cap_eff.empty() && ((std::stoull(cap_eff, nullptr, 16) >> 21) & 1) != 0;
  return ::geteuid() == 0 && initial_userns && sys_admin && std::getenv("ASSESS_SANDBOX_WITHOUT") == nullptr;
}

TEST(SandboxProbe, HasWhatTheMachineMustHave) {
  const sandbox::Capabilities caps = sandbox::probe();
  std::string notes;
  for (const std::string& n : caps.notes) notes += n + "\n";
  EXPECT_EQ(caps.drop_privileges, ::geteuid() == 0) << notes;
  if (namespaces_certain()) {
    EXPECT_TRUE(caps.net_namespace) << notes;
    EXPECT_TRUE(caps.mount_namespace) << notes;
    EXPECT_TRUE(caps.pid_namespace) << notes;
  }
  const char* expect = std::getenv("ASSESS_SANDBOX_EXPECT");
  const std::string want = expect != nullptr ? expect : "";
  auto wanted = [&](const char* layer) { return want.find(layer) != std::string::npos; };
  EXPECT_TRUE(!wanted("netns") || caps.net_namespace) << notes;
  EXPECT_TRUE(!wanted("mountns") || caps.mount_namespace) << notes;
  EXPECT_TRUE(!wanted("pidns") || caps.pid_namespace) << notes;
  EXPECT_TRUE(!wanted("cgroup") || caps.cgroup) << notes;
  EXPECT_TRUE(!wanted("uid") || caps.drop_privileges) << notes;
  // Each missing layer says why.
  const int missing = !caps.net_namespace + !caps.mount_namespace + !caps.pid_namespace + !caps.cgroup +
                      !caps.drop_privileges;
  EXPECT_GE(static_cast<int>(caps.notes.size()), missing) << notes;
}

TEST_F(SandboxTest, NormalRun) {
  sandbox::Spec spec = sh("echo hello; echo oops >&2; cat; id -u");
  spec.stdin_data = "from stdin\n";
  const sandbox::Outcome out = sandbox::run(spec);
  ASSERT_EQ(out.status, Status::exited) << out.message << out.stderr_data;
  EXPECT_TRUE(out.ok());
  EXPECT_EQ(out.exit_code, 0);
  EXPECT_EQ(out.stdout_data, "hello\nfrom stdin\n" + sandbox_uid() + "\n");
  EXPECT_EQ(out.stderr_data, "oops\n");
  EXPECT_EQ(out.message, "exited with code 0");
  expect_isolation(out);
  EXPECT_EQ(alive(token_), 0);
  EXPECT_EQ(leftover_cgroups(), 0);
}

TEST_F(SandboxTest, NonzeroExitAndSignal) {
  sandbox::Outcome out = sandbox::run(sh("echo partial; exit 3"));
  EXPECT_EQ(out.status, Status::exited);
  EXPECT_EQ(out.exit_code, 3);
  EXPECT_FALSE(out.ok());
  EXPECT_EQ(out.stdout_data, "partial\n");

  out = sandbox::run(sh("kill -SEGV $$"));
  EXPECT_EQ(out.status, Status::signaled) << out.message;
  EXPECT_EQ(out.signal, SIGSEGV);
  EXPECT_EQ(out.message, "killed by signal 11 (Segmentation fault)");
}

TEST_F(SandboxTest, InfiniteLoopHitsTheCpuLimit) {
  sandbox::Spec spec = sh("while :; do :; done");
  spec.limits.cpu = 1s;
  spec.limits.wall = 60s;  // a loaded machine may take long to give it 1 s of CPU
  const sandbox::Outcome out = sandbox::run(spec);
  EXPECT_EQ(out.status, Status::cpu_limit) << out.message;
  EXPECT_EQ(out.message, "killed: CPU time over the 1 s limit");
  EXPECT_GE(out.cpu, 900ms);
  EXPECT_LT(out.wall, spec.limits.wall);  // the CPU limit, not the wall clock, ended it
  expect_clean_and_healthy();
}

TEST_F(SandboxTest, SleepingPastTheWallLimitKillsEverything) {
  // A background child, and one that left the process group: both go with the run.
  sandbox::Spec spec = sh("sleep 300 & setsid sh -c 'sleep 300; : " + token_ + "' & sh -c 'sleep 300; : " +
                          token_ + "' & wait");
  spec.limits.wall = 1500ms;
  const sandbox::Outcome out = sandbox::run(spec);
  EXPECT_EQ(out.status, Status::timeout);
  EXPECT_EQ(out.message, "killed after 1.5 s wall time");
  EXPECT_GE(out.wall, 1500ms);
  EXPECT_LT(out.wall, 1500ms + 10s);
  expect_clean_and_healthy();
}

TEST_F(SandboxTest, ForkBombHitsTheProcessLimit) {
  if (!sandbox::probe().cgroup) GTEST_SKIP() << "no cgroup: the process count is an rlimit per uid";
  sandbox::Spec spec = sh(kForkBomb);
  spec.limits.max_processes = 64;
  spec.limits.wall = 20s;
  const sandbox::Outcome out = sandbox::run(spec);
  EXPECT_EQ(out.status, Status::process_limit) << out.message;
  EXPECT_EQ(out.message, "killed: hit the limit of 64 processes and threads");
  expect_clean_and_healthy();
}

TEST_F(SandboxTest, OutputFloodIsCutAtTheLimit) {
  sandbox::Spec spec = sh("head -c 1073741824 /dev/zero");
  spec.limits.max_output_bytes = 64u << 10;
  const sandbox::Outcome out = sandbox::run(spec);
  EXPECT_EQ(out.status, Status::output_limit);
  EXPECT_EQ(out.message, "killed: wrote more than 64 KiB to stdout");
  EXPECT_EQ(out.stdout_data, std::string(64u << 10, '\0'));
  expect_clean_and_healthy();

  spec = sh("yes " + token_ + " >&2");
  spec.limits.max_output_bytes = 1000;
  const sandbox::Outcome err = sandbox::run(spec);
  EXPECT_EQ(err.status, Status::output_limit);
  EXPECT_EQ(err.stderr_data.size(), 1000u);
  EXPECT_TRUE(err.stderr_data.starts_with(token_ + "\n"));
  expect_clean_and_healthy();
}

TEST_F(SandboxTest, MemoryHogHitsTheMemoryLimit) {
  if (!sandbox::probe().cgroup) GTEST_SKIP() << "no cgroup: memory is not limited";
  // The shell holds the whole command substitution in memory.
  sandbox::Spec spec = sh("x=$(head -c 400000000 /dev/zero | tr '\\0' a); echo ${#x}");
  spec.limits.memory_bytes = 64u << 20;
  const sandbox::Outcome out = sandbox::run(spec);
  EXPECT_EQ(out.status, Status::memory_limit) << out.message << out.stdout_data;
  EXPECT_EQ(out.message, "killed: out of memory (limit 64 MiB)");
  EXPECT_GT(out.max_rss_bytes, 32u << 20);
  expect_clean_and_healthy();
}

TEST_F(SandboxTest, HostFilesAreNotVisible) {
  if (!sandbox::probe().mount_namespace) GTEST_SKIP() << "no mount namespace";
  // A secret outside the scratch directory (not in /tmp: the sandbox has its own /tmp).
  const fs::path secret = fs::current_path() / ("sandbox-secret-" + token_);
  { std::ofstream(secret) << "secret\n"; }
  ::chmod(secret.c_str(), 0644);
  sandbox::Spec spec = sh("cat " + secret.string() + " || echo no-secret; "
                          "ls /root /work /home 2>/dev/null || echo no-homes; "
                          "cat /etc/shadow 2>/dev/null || echo no-shadow; "
                          "touch /usr/x 2>/dev/null || echo usr-read-only; "
                          "touch /newfile 2>/dev/null || echo root-read-only; "
                          "echo written > here.txt && echo scratch-writable; "
                          "ls /proc | grep -c '^[0-9]'");
  const sandbox::Outcome out = sandbox::run(spec);
  fs::remove(secret);
  ASSERT_TRUE(out.ok()) << out.message << out.stderr_data;
  EXPECT_FALSE(out.stdout_data.starts_with("secret\n")) << out.stdout_data;
  EXPECT_NE(out.stdout_data.find("no-secret\nno-homes\nno-shadow\nusr-read-only\nroot-read-only\n"
                                 "scratch-writable\n"),
            std::string::npos)
      << out.stdout_data;
  if (sandbox::probe().pid_namespace) {
    // Its /proc shows its own processes only (sh, ls, grep and the init: a handful).
    EXPECT_LT(std::stoi(out.stdout_data.substr(out.stdout_data.rfind("scratch-writable\n") + 17)), 10);
  }
  std::ifstream here(scratch_ / "here.txt");
  std::string line;
  std::getline(here, line);
  EXPECT_EQ(line, "written");
  if (sandbox::probe().drop_privileges) {
    struct stat st{};
    ASSERT_EQ(::stat((scratch_ / "here.txt").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 65534u);
  }
}

// A listener of the test process on 127.0.0.1, that the sandbox must not reach.
class Listener {
 public:
  Listener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd_, 16) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error("listener");
    }
    port_ = ntohs(addr.sin_port);
  }
  ~Listener() { ::close(fd_); }
  int port() const { return port_; }

 private:
  int fd_;
  int port_;
};

TEST_F(SandboxTest, NoNetwork) {
  Listener listener;
  // bash's /dev/tcp connects (Debian's bash has it).
  const std::string connect = "exec 3<>/dev/tcp/127.0.0.1/" + std::to_string(listener.port()) +
                              " && echo connected || echo refused";
  sandbox::Spec spec = sh("");
  spec.argv = {"/bin/bash", "-c", connect + " 2>/dev/null; : " + token_};
  // Shared network (a trusted run): the listener is there, so the check below can see it.
  spec.network = true;
  sandbox::Outcome out = sandbox::run(spec);
  ASSERT_TRUE(out.ok()) << out.message << out.stderr_data;
  EXPECT_EQ(out.stdout_data, "connected\n");
  if (!sandbox::probe().net_namespace) GTEST_SKIP() << "no network namespace";
  spec.network = false;
  out = sandbox::run(spec);
  ASSERT_TRUE(out.ok()) << out.message << out.stderr_data;
  EXPECT_EQ(out.stdout_data, "refused\n");
  EXPECT_TRUE(has(out.isolation, "netns"));
}

TEST_F(SandboxTest, CommandNotFoundIsAnInternalError) {
  sandbox::Spec spec = sh("");
  spec.argv = {"no-such-command-" + token_};
  const sandbox::Outcome out = sandbox::run(spec);
  EXPECT_EQ(out.status, Status::internal_error);
  EXPECT_EQ(out.message, "exec " + spec.argv[0] + ": No such file or directory");
}

TEST_F(SandboxTest, BadSpecThrows) {
  sandbox::Spec spec = sh("true");
  spec.argv.clear();
  EXPECT_THROW(sandbox::run(spec), std::invalid_argument);
  spec = sh("true");
  spec.workdir = scratch_ / "missing";
  EXPECT_THROW(sandbox::run(spec), std::invalid_argument);
  spec = sh("true");
  spec.read_only = {"relative/path"};
  EXPECT_THROW(sandbox::run(spec), std::invalid_argument);
  spec = sh("true");
  spec.limits.wall = 0s;
  EXPECT_THROW(sandbox::run(spec), std::invalid_argument);
}

// Without any namespace, cgroup or uid change: still limits, and the process group is killed.
TEST_F(SandboxTest, DegradedModesStillEnforceLimits) {
  sandbox::Spec spec = sh("echo plain");
  sandbox::Outcome out = sandbox::detail::run_without(spec, "userns,netns,mountns,pidns,cgroup,uid");
  ASSERT_TRUE(out.ok()) << out.message << out.stderr_data;
  EXPECT_EQ(out.stdout_data, "plain\n");
  EXPECT_EQ(out.isolation, std::vector<std::string>{"rlimits"});

  spec = sh("sleep 300 & sh -c 'sleep 300; : " + token_ + "' & wait");
  spec.limits.wall = 1s;
  out = sandbox::detail::run_without(spec, "userns,netns,mountns,pidns,cgroup,uid");
  EXPECT_EQ(out.status, Status::timeout);
  EXPECT_EQ(alive(token_), 0);

  spec = sh("while :; do :; done");
  spec.limits.cpu = 1s;
  out = sandbox::detail::run_without(spec, "userns,netns,mountns,pidns,cgroup,uid");
  EXPECT_EQ(out.status, Status::cpu_limit) << out.message;

  // No PID namespace, but a cgroup: a process that left the group still goes.
  if (sandbox::probe().cgroup) {
    spec = sh("setsid sh -c 'sleep 300; : " + token_ + "' & sleep 300");
    spec.limits.wall = 1s;
    out = sandbox::detail::run_without(spec, "pidns");
    EXPECT_EQ(out.status, Status::timeout);
    EXPECT_FALSE(has(out.isolation, "pidns"));
    EXPECT_EQ(alive(token_), 0);
  }
  expect_clean_and_healthy();
}

// ---- the Go toolchain inside --------------------------------------------------------------

class SandboxGoTest : public SandboxTest {
 protected:
  void SetUp() override {
    SandboxTest::SetUp();
    item_ = scratch_ / "gopath" / "src" / "item";
    fs::create_directories(item_);
    // Shared between runs of the test (and kept warm across them): the race runtime's first
    // build takes a while.
    gocache_ = fs::temp_directory_path() / "gocxx-sandbox-test-gocache";
    fs::create_directories(gocache_);
  }

  void write(const std::string& name, const std::string& text) { std::ofstream(item_ / name) << text; }

  sandbox::Spec go(std::vector<std::string> argv) {
    sandbox::Spec spec;
    spec.argv = std::move(argv);
    spec.workdir = item_;
    spec.env = {{"GO111MODULE", "off"},
                {"GOPATH", (scratch_ / "gopath").string() + ":/usr/share/gocode"},
                {"GOCACHE", gocache_.string()},
                {"GOPROXY", "off"},
                {"CGO_ENABLED", "1"}};
    spec.read_only = {"/usr/share/gocode"};
    spec.writable = {gocache_};
    spec.limits.wall = 120s;
    spec.limits.cpu = 240s;
    spec.limits.max_processes = 512;
    spec.limits.memory_bytes = std::size_t{2} << 30;
    return spec;
  }

  fs::path item_, gocache_;
};

// cgo through gcc, and the system's SQLite through mattn/go-sqlite3 (Debian's, from
// /usr/share/gocode): what the ecosystem items need.
TEST_F(SandboxGoTest, GoRunWithCgoAndSqlite) {
  write("main.go", R"(package main

// int twice(int x) { return 2 * x; }
import "C"

import (
	"database/sql"
	"fmt"
	"os"

	_ "github.com/mattn/go-sqlite3"
)

func main() {
	db, err := sql.Open("sqlite3", ":memory:")
	if err != nil {
		panic(err)
	}
	var answer int
	if err := db.QueryRow("select 6 * 7").Scan(&answer); err != nil {
		panic(err)
	}
	host, _ := os.Hostname()
	_, err = os.ReadFile("/etc/shadow")
	fmt.Println("twice:", C.twice(21), "sqlite:", answer, "host:", host, "uid:", os.Getuid(), "shadow:", err != nil)
}
)");
  const sandbox::Outcome out = sandbox::run(go({"go", "run", "."}));
  ASSERT_TRUE(out.ok()) << out.message << "\n" << out.stderr_data;
  const sandbox::Capabilities caps = sandbox::probe();
  if (caps.mount_namespace) {
    EXPECT_EQ(out.stdout_data, "twice: 42 sqlite: 42 host: sandbox uid: " + sandbox_uid() + " shadow: true\n");
  } else {
    EXPECT_TRUE(out.stdout_data.starts_with("twice: 42 sqlite: 42 ")) << out.stdout_data;
  }
  expect_isolation(out);
}

TEST_F(SandboxGoTest, GoTestRaceWithGoleak) {
  write("item.go", R"(package item

import "sync"

// Sum adds xs in one goroutine per element.
func Sum(xs []int) int {
	var mu sync.Mutex
	var wg sync.WaitGroup
	total := 0
	for _, x := range xs {
		wg.Add(1)
		go func(x int) {
			defer wg.Done()
			mu.Lock()
			total += x
			mu.Unlock()
		}(x)
	}
	wg.Wait()
	return total
}
)");
  write("item_test.go", R"(package item

import (
	"net"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestSum(t *testing.T) {
	if got := Sum([]int{1, 2, 3, 4}); got != 10 {
		t.Fatalf("Sum = %d", got)
	}
}

// The run's own loopback is up: a test may listen and dial on it.
func TestLoopback(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		if c, err := ln.Accept(); err == nil {
			c.Close()
		}
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}
)");
  const sandbox::Outcome out = sandbox::run(go({"go", "test", "-race", "-count=1", "-v", "."}));
  ASSERT_TRUE(out.ok()) << out.message << "\n" << out.stdout_data << out.stderr_data;
  EXPECT_NE(out.stdout_data.find("--- PASS: TestSum"), std::string::npos) << out.stdout_data;
  EXPECT_NE(out.stdout_data.find("--- PASS: TestLoopback"), std::string::npos) << out.stdout_data;
  EXPECT_NE(out.stdout_data.find("ok  \titem"), std::string::npos) << out.stdout_data;
  expect_isolation(out);
}

// ---- concurrency --------------------------------------------------------------------------

// Runs from several goroutines (inside gocxx::blocking) at once are independent: each gets its
// own output and exit code, and a slow one does not hold up the fast ones (no run keeps another
// run's pipes open).
TEST_F(SandboxTest, ConcurrentRunsAreIndependent) {
  constexpr int kRuns = 4;
  std::vector<sandbox::Outcome> outs(kRuns);
  sandbox::Outcome slow;
  std::atomic<int> fast_done{0};
  std::atomic<int> fast_done_when_slow_ended{-1};
  gocxx::run([&] {
    gocxx::Chan<int> done(kRuns + 1);
    gocxx::go([&] {
      sandbox::Spec spec = sh("sleep 300");
      spec.limits.wall = 5s;
      slow = gocxx::blocking([&] { return sandbox::run(spec); });
      fast_done_when_slow_ended = fast_done.load();
      done.send(-1);
    });
    for (int i = 0; i < kRuns; ++i) {
      gocxx::go([&, i] {
        sandbox::Spec spec = sh("echo run " + std::to_string(i) + "; exit " + std::to_string(i));
        outs[i] = gocxx::blocking([&] { return sandbox::run(spec); });
        ++fast_done;
        done.send(i);
      });
    }
    for (int i = 0; i < kRuns + 1; ++i) done.recv();
  });
  for (int i = 0; i < kRuns; ++i) {
    EXPECT_EQ(outs[i].status, Status::exited) << outs[i].message;
    EXPECT_EQ(outs[i].exit_code, i);
    EXPECT_EQ(outs[i].stdout_data, "run " + std::to_string(i) + "\n");
  }
  EXPECT_EQ(slow.status, Status::timeout);
  EXPECT_EQ(fast_done_when_slow_ended.load(), kRuns);
  expect_clean_and_healthy();
}

// ---- the cgroups a run nests under (locate_cgroups is tested in tests/procs_test.cpp) ------

// cgroup v2's choice of parent, on a fake cgroup tree (regular files: every write succeeds).
TEST(SandboxCgroups, ChoosesTheV2Parent) {
  if (std::getenv("ASSESS_SANDBOX_CGROUP") != nullptr) GTEST_SKIP() << "ASSESS_SANDBOX_CGROUP chooses";
  std::string tmpl = (fs::temp_directory_path() / "sandbox-cg2-XXXXXX").string();
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  const fs::path root = tmpl;
  auto file = [](const fs::path& p, const std::string& text) { std::ofstream(p) << text; };
  const fs::path own = root / "system.slice" / "grader.service";
  fs::create_directories(own / "gocxx-init");
  for (const fs::path& dir : {own, own / "gocxx-init"}) file(dir / "cgroup.subtree_control", "");
  file(own / "cgroup.controllers", "cpu io memory\n");  // no pids for us
  std::string why;
  EXPECT_EQ(sandbox::detail::v2_parent(own, false, why), nullptr);
  EXPECT_EQ(why, "cgroup v2: no memory and pids controllers in " + own.string());

  file(own / "cgroup.controllers", "cpuset cpu io memory pids\n");
  auto parent = sandbox::detail::v2_parent(own, false, why);
  ASSERT_NE(parent, nullptr) << why;
  EXPECT_EQ(parent->version, 2);
  EXPECT_EQ(parent->v2, own);
  std::ifstream enabled(own / "cgroup.subtree_control");
  std::string line;
  std::getline(enabled, line);
  EXPECT_EQ(line, "+memory +pids");
  // A grader that finds itself in the leaf an earlier one moved to uses the leaf's parent.
  parent = sandbox::detail::v2_parent(own / "gocxx-init", false, why);
  ASSERT_NE(parent, nullptr) << why;
  EXPECT_EQ(parent->v2, own);
  fs::remove_all(root);
}

// What a killed grader left (cgroups, root mount points) is swept by the next one: only
// entries named for a grader that is gone.
TEST(SandboxCgroups, SweepsOnlyWhatDeadGradersLeft) {
  std::string tmpl = (fs::temp_directory_path() / "sandbox-sweep-XXXXXX").string();
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  const fs::path dir = tmpl;
  const pid_t dead = ::fork();
  if (dead == 0) ::_exit(0);
  ASSERT_GT(dead, 0);
  ::waitpid(dead, nullptr, 0);
  const std::string prefix(sandbox::detail::kLeftoverPrefix);
  for (const std::string& name : {prefix + std::to_string(dead) + "-3", prefix + std::to_string(::getpid()) + "-1",
                                  prefix + "test-gocache", std::string("other-") + std::to_string(dead) + "-1"}) {
    fs::create_directory(dir / name);
  }
  std::vector<std::string> swept;
  sandbox::detail::for_each_orphan(dir, [&](const fs::path& p) { swept.push_back(p.filename().string()); });
  EXPECT_EQ(swept, std::vector<std::string>{prefix + std::to_string(dead) + "-3"});
  fs::remove_all(dir);
}

}  // namespace

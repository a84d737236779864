#include "target.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <gocxx/chan.hpp>
#include <gocxx/net.hpp>
#include <gocxx/time.hpp>

extern char** environ;

namespace gocxx::pressure {

namespace {

// posix_spawn's attributes and file actions, destroyed on every path.
struct SpawnSetup {
  posix_spawnattr_t attr;
  posix_spawn_file_actions_t actions;
  SpawnSetup() {
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_init(&actions);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
};

}  // namespace

std::unique_ptr<TargetProcess> TargetProcess::start(const std::vector<std::string>& argv,
                                                    const std::string& log_path) {
  SpawnSetup s;
  // A group of its own (see the header), with the signals gocxx-pressure blocks or ignores
  // back to normal: a target that inherited a blocked SIGTERM could not be stopped.
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int sig : {SIGINT, SIGTERM, SIGQUIT, SIGPIPE, SIGHUP, SIGUSR1, SIGUSR2})
    sigaddset(&defaults, sig);
  posix_spawnattr_setpgroup(&s.attr, 0);
  posix_spawnattr_setsigmask(&s.attr, &none);
  posix_spawnattr_setsigdefault(&s.attr, &defaults);
  posix_spawnattr_setflags(&s.attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawn_file_actions_addopen(&s.actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&s.actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                   0644);
  posix_spawn_file_actions_adddup2(&s.actions, 1, 2);

  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid;
  int rc = posix_spawnp(&pid, args[0], &s.actions, &s.attr, args.data(), environ);
  if (rc != 0) throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
  return std::unique_ptr<TargetProcess>(new TargetProcess(pid));
}

TargetProcess::TargetProcess(pid_t pid) : pid_(pid) {
  // A plain thread, not a goroutine: waitpid blocks for the whole run.
  reaper_ = std::thread([this] {
    int st = 0;
    while (waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
    }
    status_.store(st, std::memory_order_release);
    exited_.close();
  });
}

TargetProcess::~TargetProcess() { stop(std::chrono::seconds(5)); }

std::optional<int> TargetProcess::status() const {
  int st = status_.load(std::memory_order_acquire);
  if (st < 0) return std::nullopt;
  return st;
}

std::string TargetProcess::describe() const {
  auto st = status();
  if (!st) return "running";
  if (WIFEXITED(*st)) return "exited with status " + std::to_string(WEXITSTATUS(*st));
  if (WIFSIGNALED(*st)) {
    int sig = WTERMSIG(*st);
    return "killed by signal " + std::to_string(sig) + " (" + strsignal(sig) + ")";
  }
  return "ended with wait status " + std::to_string(*st);
}

bool TargetProcess::stop(Duration grace) {
  // Once only: after that the group's id may be reused by another process.
  if (!reaper_.joinable()) return false;
  bool running = !status();
  if (running) {
    kill(-pid_, SIGTERM);
    gocxx::select(gocxx::recv_case(exited_, [] {}), gocxx::recv_case(time::after(grace), [] {}));
  }
  // Whatever the group still holds (the target after the grace, or what a shell started).
  kill(-pid_, SIGKILL);
  reaper_.join();
  return running;
}

std::vector<std::string> target_command(const Settings& s, int port) {
  if (!s.exec.empty()) return {"/bin/sh", "-c", with_port(s.exec, port)};
  std::vector<std::string> argv;
  for (const auto& a : s.argv) argv.push_back(with_port(a, port));
  return argv;
}

int free_port() {
  auto [ln, err] = net::listen("tcp", "127.0.0.1:0");
  if (err) throw std::runtime_error("no free loopback port: " + err.message());
  int port = ln.addr().port();
  (void)ln.close();
  return port;
}

}  // namespace gocxx::pressure

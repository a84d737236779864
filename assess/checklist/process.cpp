#include "checklist/process.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>
#include <utility>
#include <unistd.h>

extern char** environ;

namespace assess::checklist {
namespace {

std::string errno_text(const std::string& what, int err) { return what + ": " + std::strerror(err); }

// The current environment with `overrides` ("KEY=VALUE") in place of their keys.
std::vector<std::string> environment(const std::vector<std::string>& overrides) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string_view v(*e);
    bool replaced = false;
    for (const std::string& o : overrides)
      replaced |= v.substr(0, v.find('=') + 1) == std::string_view(o).substr(0, o.find('=') + 1);
    if (!replaced) env.emplace_back(v);
  }
  env.insert(env.end(), overrides.begin(), overrides.end());
  return env;
}

std::vector<char*> pointers(std::vector<std::string>& v) {
  std::vector<char*> p;
  for (std::string& s : v) p.push_back(s.data());
  p.push_back(nullptr);
  return p;
}

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

pid_t spawn(std::vector<std::string> argv, const std::vector<std::string>& env, SpawnSetup& s) {
  if (argv.empty()) throw std::invalid_argument("run_process: empty argv");
  std::vector<std::string> envs = environment(env);
  std::vector<char*> a = pointers(argv), e = pointers(envs);
  pid_t pid = -1;
  if (int err = posix_spawnp(&pid, a[0], &s.actions, &s.attr, a.data(), e.data()); err != 0)
    throw std::runtime_error(errno_text("cannot start " + argv[0], err));
  return pid;
}

int wait_status(pid_t pid) {
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

struct Pipe {
  int fd[2] = {-1, -1};
  Pipe() {
    if (pipe2(fd, O_CLOEXEC) != 0) throw std::runtime_error(errno_text("pipe", errno));
  }
  ~Pipe() {
    for (int f : fd)
      if (f >= 0) close(f);
  }
  int take_read() { return std::exchange(fd[0], -1); }
};

}  // namespace

Output run_process(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                   const std::filesystem::path& cwd) {
  Pipe out, err;
  SpawnSetup s;
  posix_spawn_file_actions_addopen(&s.actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&s.actions, out.fd[1], 1);
  posix_spawn_file_actions_adddup2(&s.actions, err.fd[1], 2);
  if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&s.actions, cwd.c_str());
  pid_t pid = spawn(argv, env, s);
  close(std::exchange(out.fd[1], -1));
  close(std::exchange(err.fd[1], -1));
  Output o;
  pollfd fds[2] = {{out.fd[0], POLLIN, 0}, {err.fd[0], POLLIN, 0}};
  std::string* sinks[2] = {&o.out, &o.err};
  for (int open = 2; open > 0;) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[8192];
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        fds[i].fd = -1;
        --open;
      }
    }
  }
  o.status = wait_status(pid);
  return o;
}

Service::Service(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                 const std::filesystem::path& log) {
  Pipe out;
  SpawnSetup s;
  posix_spawnattr_setpgroup(&s.attr, 0);
  posix_spawnattr_setflags(&s.attr, POSIX_SPAWN_SETPGROUP);
  posix_spawn_file_actions_addopen(&s.actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&s.actions, out.fd[1], 1);
  if (!log.empty())
    posix_spawn_file_actions_addopen(&s.actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  pid_ = spawn(argv, env, s);
  out_ = out.take_read();
}

Service::~Service() {
  kill(-pid_, SIGTERM);
  // A service that ignores SIGTERM gets 5 s, then SIGKILL.
  for (int i = 0; i < 500; ++i) {
    int st = 0;
    if (waitpid(pid_, &st, WNOHANG) == pid_) {
      kill(-pid_, SIGKILL);  // what it started
      close(out_);
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(-pid_, SIGKILL);
  wait_status(pid_);
  close(out_);
}

std::string Service::read_line(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (std::size_t nl = buffered_.find('\n'); nl != std::string::npos) {
      std::string line = buffered_.substr(0, nl);
      buffered_.erase(0, nl + 1);
      return line;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{out_, POLLIN, 0};
    if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) == 0)
      throw std::runtime_error("pid " + std::to_string(pid_) + " wrote no line within " +
                               std::to_string(timeout.count()) + " ms");
    char buf[4096];
    ssize_t n = read(out_, buf, sizeof buf);
    if (n == 0) throw std::runtime_error("pid " + std::to_string(pid_) + " closed its stdout (exited?) before a line");
    if (n > 0) buffered_.append(buf, static_cast<std::size_t>(n));
  }
}

}  // namespace assess::checklist

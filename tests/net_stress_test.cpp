// gocxx::net under load and at its edges: ten thousand loopback connections at once (with 1, 2
// and 4 Ps), descriptor reuse racing with events (dial/write/close while the server writes, a
// listener closed and re-listened under fire, close racing with a blocked read or write),
// half-close and resets, EMFILE on accept (and the same listener recovering), descriptor leaks
// on every error path, and deadlock detection around goroutines waiting on the poller.
//
// Loopback only: 127.0.0.1 and Unix sockets in a temporary directory. No timing assertions:
// timeouts are hang guards only (gocxx::test::expect_returns; alarm() in death tests, where a
// plain thread would postpone the deadlock verdict).
#include <dirent.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <gocxx/chan.hpp>
#include <gocxx/context.hpp>
#include <gocxx/io.hpp>
#include <gocxx/net.hpp>
#include <gocxx/os.hpp>
#include <gocxx/runtime.hpp>
#include <gocxx/sync.hpp>
#include <gocxx/time.hpp>

#include "temp_dir.hpp"
#include "test_util.hpp"

namespace net = gocxx::net;
namespace os = gocxx::os;
namespace errors = gocxx::errors;
namespace ctxns = gocxx::context;
using gocxx::error;
using gocxx::test::expect_returns;
using gocxx::test::join_goroutines;
using gocxx::test::run_with;
using gocxx::test::scaled;
using gocxx::test::TempDir;
using gocxx::detail::WaitReason;
using namespace std::chrono_literals;
using testing::AllOf;
using testing::ContainsRegex;
using testing::HasSubstr;
using testing::Not;

namespace {

// ---- helpers -----------------------------------------------------------------------------

// Failures seen by goroutines, reported by the test body afterwards (GoogleTest's assertions
// are not meant to be called from many threads at once in a hot loop).
class Failures {
 public:
  void add(std::string what) {
    std::lock_guard lk(mu_);
    if (msgs_.size() < 20) msgs_.push_back(std::move(what));
    ++count_;
  }
  int count() const {
    std::lock_guard lk(mu_);
    return count_;
  }
  std::string summary() const {
    std::lock_guard lk(mu_);
    std::string s = std::to_string(count_) + " failure(s):";
    for (auto& m : msgs_) s += "\n  " + m;
    return s;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> msgs_;
  int count_ = 0;
};

// The errno inside err (an os::Errno anywhere in its chain), or 0.
int errno_in(const error& err) {
  const auto* e = errors::as<os::Errno>(err);
  return e ? e->code : 0;
}

// The op of the OpError at the head of err, or "<not an OpError>".
std::string op_of(const error& err) {
  const auto* e = errors::as<net::OpError>(err);
  return e ? e->op : std::string("<not an OpError>");
}

bool is_reset_or_pipe(const error& err) {
  int code = errno_in(err);
  return errors::as<net::OpError>(err) != nullptr && (code == ECONNRESET || code == EPIPE);
}

// The descriptor numbers open in this process (without the directory's own).
std::vector<int> open_fd_numbers() {
  std::vector<int> fds;
  DIR* dir = ::opendir("/proc/self/fd");
  if (!dir) return fds;
  int own = ::dirfd(dir);
  while (dirent* e = ::readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    int fd = std::atoi(e->d_name);
    if (fd != own) fds.push_back(fd);
  }
  ::closedir(dir);
  return fds;
}

// Raises RLIMIT_NOFILE's soft limit to `want` (and the hard one, where this process may);
// returns the soft limit now in force.
rlim_t raise_nofile(rlim_t want) {
  rlimit rl{};
  ::getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur >= want) return rl.rlim_cur;
  if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want) {
    rlimit up{want, want};
    if (::setrlimit(RLIMIT_NOFILE, &up) == 0) return want;  // needs CAP_SYS_RESOURCE
  }
  rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? want : std::min(want, rl.rlim_max);
  ::setrlimit(RLIMIT_NOFILE, &rl);
  ::getrlimit(RLIMIT_NOFILE, &rl);
  return rl.rlim_cur;
}

// The poller's own descriptors (epoll, its eventfd) are made on first use and kept for the
// process's life: make them before any test counts descriptors.
void warm_up_poller() {
  static std::once_flag once;
  std::call_once(once, [] {
    run_with(1, [] {
      auto [ln, err] = net::listen("tcp", "127.0.0.1:0");
      ASSERT_FALSE(err) << err;
      EXPECT_FALSE(ln.close());
    });
  });
}

// Checks that descriptors and the socket counters are back where `before` saw them.
void expect_no_fd_leak(const net::Stats& before, const char* what) {
  net::Stats after = net::stats();
  EXPECT_EQ(after.open_fds, before.open_fds) << what << ": /proc/self/fd count changed";
  EXPECT_EQ(after.sockets_opened - before.sockets_opened,
            after.sockets_closed - before.sockets_closed)
      << what << ": sockets opened " << after.sockets_opened - before.sockets_opened
      << ", closed " << after.sockets_closed - before.sockets_closed;
}

void put32(char* p, std::uint32_t v) { std::memcpy(p, &v, 4); }
std::uint32_t get32(const char* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// A free TCP port on 127.0.0.1 below the ephemeral range, so that no dial of this process
// ever gets it as its local port (which would make a re-listen fail) or connects to itself.
int low_free_port() {
  static std::atomic<int> next{20000 + static_cast<int>(::getpid() % 5000) * 2};
  for (int tries = 0; tries < 2000; ++tries) {
    int port = next.fetch_add(1);
    if (port >= 32000) next.store(10000 + port % 1000);
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<std::uint16_t>(port));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
    ::close(fd);
    if (ok) return port;
  }
  return 0;
}

// scaled(n), but at least `floor`: sanitizer builds still get a useful number of rounds.
int scaled_at_least(int n, int floor) { return std::max(scaled(n), floor); }

std::string addr_of(int port) { return "127.0.0.1:" + std::to_string(port); }

// A temporary directory for Unix sockets, removed at the end.
// In a forked process (no gocxx there): closes every inherited descriptor, waits, connects
// to 127.0.0.1:port, waits, writes `data`, and exits (closing the connection).
[[noreturn]] void external_peer(int port, std::chrono::milliseconds before_connect,
                                std::chrono::milliseconds before_write, const char* data) {
  if (::syscall(SYS_close_range, 3u, ~0u, 0u) != 0) {
    for (int fd = 3; fd < 4096; ++fd) ::close(fd);
  }
  ::usleep(static_cast<useconds_t>(before_connect.count() * 1000));
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<std::uint16_t>(port));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) ::_exit(10);
  ::usleep(static_cast<useconds_t>(before_write.count() * 1000));
  if (::write(fd, data, std::strlen(data)) != static_cast<ssize_t>(std::strlen(data))) ::_exit(11);
  ::_exit(0);
}

// ---- 1. ten thousand connections at once -----------------------------------------------------

// Requests: a 12-byte header (id, round, payload length) and a payload derived from them. The
// server replies with the header and every payload byte xor 0xa5.
constexpr std::uint32_t kMaxPayload = 1u << 20;

std::uint32_t payload_len(std::uint32_t id, std::uint32_t round) {
  if (id % 97 == 5 && round == 1) return 300'000;  // partial writes and several reads
  return 1 + (id * 131u + round * 977u) % 3000u;
}

char payload_byte(std::uint32_t id, std::uint32_t round, std::uint32_t i) {
  return static_cast<char>((id * 7u + round * 13u + i * 31u + (i >> 8)) & 0xff);
}

void serve_rounds(net::Conn c, Failures& f, std::atomic<std::int64_t>& served) {
  std::vector<char> buf;
  for (;;) {
    char hdr[12];
    auto [n, err] = gocxx::io::read_full(c, std::span<char>(hdr, 12));
    if (err == gocxx::io::eof) break;  // the client is done
    if (err) {
      f.add("server: read header: " + err.message());
      break;
    }
    std::uint32_t len = get32(hdr + 8);
    if (len > kMaxPayload) {
      f.add("server: bad length " + std::to_string(len));
      break;
    }
    buf.resize(12 + len);
    std::memcpy(buf.data(), hdr, 12);
    auto [m, rerr] = gocxx::io::read_full(c, std::span<char>(buf).subspan(12));
    if (rerr) {
      f.add("server: read payload: " + rerr.message());
      break;
    }
    for (std::size_t i = 12; i < buf.size(); ++i) buf[i] = static_cast<char>(buf[i] ^ 0xa5);
    auto [w, werr] = c.write(std::string_view(buf.data(), buf.size()));
    if (werr || w != buf.size()) {
      f.add("server: write: " + werr.message());
      break;
    }
    served.fetch_add(1, std::memory_order_relaxed);
  }
  if (error err = c.close()) f.add("server: close: " + err.message());
}

bool client_round(net::Conn& c, std::uint32_t id, std::uint32_t round, Failures& f,
                  std::vector<char>& out, std::vector<char>& in) {
  std::uint32_t len = payload_len(id, round);
  out.resize(12 + len);
  put32(out.data(), id);
  put32(out.data() + 4, round);
  put32(out.data() + 8, len);
  for (std::uint32_t i = 0; i < len; ++i) out[12 + i] = payload_byte(id, round, i);
  auto [n, err] = c.write(std::string_view(out.data(), out.size()));
  if (err || n != out.size()) {
    f.add("client " + std::to_string(id) + ": write: " + err.message());
    return false;
  }
  in.assign(12 + len, 0);
  auto [m, rerr] = gocxx::io::read_full(c, std::span<char>(in));
  if (rerr) {
    f.add("client " + std::to_string(id) + " round " + std::to_string(round) +
          ": read: " + rerr.message());
    return false;
  }
  if (std::memcmp(in.data(), out.data(), 12) != 0) {
    f.add("client " + std::to_string(id) + ": reply header is (" + std::to_string(get32(in.data())) +
          ", " + std::to_string(get32(in.data() + 4)) + ") not its own");
    return false;
  }
  for (std::uint32_t i = 0; i < len; ++i) {
    if (in[12 + i] != static_cast<char>(out[12 + i] ^ 0xa5)) {
      f.add("client " + std::to_string(id) + " round " + std::to_string(round) +
            ": wrong byte at " + std::to_string(i));
      return false;
    }
  }
  return true;
}

// `want` clients connect (at most 256 dials in flight), each does one round, waits until every
// client is connected (so that all connections are open at once), does the remaining rounds
// and closes. Every byte of every reply is checked.
void stress_round_trips(int procs, int want, int rounds) {
  warm_up_poller();
  const net::Stats before = net::stats();
  // Two descriptors per connection (client and server end), plus what the process has.
  const rlim_t need = static_cast<rlim_t>(2 * want + before.open_fds + 100);
  const rlim_t limit = raise_nofile(need);
  int conns = want;
  if (limit < need) {
    conns = static_cast<int>((static_cast<std::int64_t>(limit) - before.open_fds - 100) / 2);
    rlimit rl{};
    ::getrlimit(RLIMIT_NOFILE, &rl);
    std::printf("[   NOTE   ] RLIMIT_NOFILE reaches only %llu (hard limit %llu; raising it needs "
                "CAP_SYS_RESOURCE): %d concurrent connections instead of %d\n",
                static_cast<unsigned long long>(limit),
                static_cast<unsigned long long>(rl.rlim_max), conns, want);
    std::fflush(stdout);
  }
  ASSERT_GT(conns, 100) << "too few descriptors for a stress test";

  Failures f;
  std::atomic<std::int64_t> served{0};
  std::atomic<int> connected{0};
  std::atomic<int> peak{0};
  std::atomic<int> completed{0};
  expect_returns(
      [&] {
        run_with(procs, [&] {
          auto [ln, err] = net::listen("tcp", "127.0.0.1:0");
          ASSERT_FALSE(err) << err;
          const std::string addr = ln.addr().string();
          gocxx::go([ln, &f, &served]() mutable {
            for (;;) {
              auto [c, err] = ln.accept();
              if (err) {
                if (!errors::is(err, net::err_closed)) f.add("accept: " + err.message());
                return;
              }
              gocxx::go([c = std::move(c), &f, &served]() mutable {
                serve_rounds(std::move(c), f, served);
              });
            }
          });
          gocxx::Chan<int> dial_slots(256);
          gocxx::Chan<int> go_on;
          gocxx::sync::WaitGroup all_connected, all_done;
          all_connected.add(conns);
          all_done.add(conns);
          for (int i = 0; i < conns; ++i) {
            gocxx::go([&, id = static_cast<std::uint32_t>(i), dial_slots, go_on]() mutable {
              std::vector<char> out, in;
              dial_slots.send(0);
              auto [c, err] = net::dial("tcp", addr);
              (void)dial_slots.recv();
              bool ok = !err;
              if (err) f.add("dial: " + err.message());
              if (ok) ok = client_round(c, id, 0, f, out, in);
              if (ok) connected.fetch_add(1);
              all_connected.done();
              (void)go_on.recv();  // closed once every client is connected
              for (int r = 1; ok && r < rounds; ++r) {
                ok = client_round(c, id, static_cast<std::uint32_t>(r), f, out, in);
              }
              if (c) {
                if (error cerr = c.close()) f.add("client close: " + cerr.message());
              }
              if (ok) completed.fetch_add(1);
              all_done.done();
            });
          }
          all_connected.wait();
          peak.store(connected.load());
          go_on.close();
          all_done.wait();
          EXPECT_FALSE(ln.close());
          join_goroutines();  // the server goroutines end on the clients' EOF
        });
      },
      "stress run");
  EXPECT_EQ(f.count(), 0) << f.summary();
  EXPECT_EQ(peak.load(), conns) << "connections open at once";
  EXPECT_EQ(completed.load(), conns);
  EXPECT_EQ(served.load(), static_cast<std::int64_t>(conns) * rounds);
  net::Stats after = net::stats();
  EXPECT_EQ(after.sockets_opened - before.sockets_opened, static_cast<std::uint64_t>(2 * conns + 1));
  expect_no_fd_leak(before, "stress");
}

TEST(NetStress, TenThousandConnectionsAtOnce) {
  stress_round_trips(0, scaled(10000), 4);
}

TEST(NetStress, TenThousandConnectionsAtOnceOneProc) {
  stress_round_trips(1, scaled(10000), 3);
}

TEST(NetStress, TenThousandConnectionsAtOnceFourProcs) {
  stress_round_trips(4, scaled(10000), 3);
}

// The same over Unix sockets (no ports, no TIME_WAIT), fewer of them.
TEST(NetStress, UnixConnectionsAtOnce) {
  warm_up_poller();
  TempDir dir("gocxx_net_stress");
  const net::Stats before = net::stats();
  const int conns = scaled(2000);
  raise_nofile(static_cast<rlim_t>(2 * conns + before.open_fds + 100));
  Failures f;
  std::atomic<std::int64_t> served{0};
  std::atomic<int> completed{0};
  expect_returns(
      [&] {
        run_with(2, [&] {
          auto [ln, err] = net::listen("unix", dir.file("s.sock"));
          ASSERT_FALSE(err) << err;
          gocxx::go([ln, &f, &served]() mutable {
            for (;;) {
              auto [c, err] = ln.accept();
              if (err) {
                if (!errors::is(err, net::err_closed)) f.add("accept: " + err.message());
                return;
              }
              gocxx::go([c = std::move(c), &f, &served]() mutable {
                serve_rounds(std::move(c), f, served);
              });
            }
          });
          gocxx::sync::WaitGroup wg;
          wg.add(conns);
          for (int i = 0; i < conns; ++i) {
            gocxx::go([&, id = static_cast<std::uint32_t>(i)] {
              std::vector<char> out, in;
              auto [c, err] = net::dial("unix", dir.file("s.sock"));
              bool ok = !err;
              if (err) f.add("dial: " + err.message());
              for (std::uint32_t r = 0; ok && r < 3; ++r) ok = client_round(c, id, r, f, out, in);
              if (c) (void)c.close();
              if (ok) completed.fetch_add(1);
              wg.done();
            });
          }
          wg.wait();
          EXPECT_FALSE(ln.close());
          join_goroutines();
        });
      },
      "unix stress run");
  EXPECT_EQ(f.count(), 0) << f.summary();
  EXPECT_EQ(completed.load(), conns);
  EXPECT_EQ(served.load(), static_cast<std::int64_t>(conns) * 3);
  expect_no_fd_leak(before, "unix stress");
}

// ---- 2. descriptor reuse racing with events --------------------------------------------------

// Many goroutines dial, say who they are, read a little of what the server streams to them (or
// nothing), and close, over and over, while the server writes to every connection until the
// write fails. Descriptor numbers are reused all the time on both sides; every record a client
// reads must carry its own (id, iteration), and the server's writes must end in a reset or a
// broken pipe.
TEST(NetFdReuse, DialWriteCloseWhileTheServerWrites) {
  warm_up_poller();
  const net::Stats before = net::stats();
  const int workers = 32;
  const int iterations = scaled_at_least(300, 40);
  Failures f;
  std::atomic<int> exchanges{0};
  std::atomic<int> server_write_errors{0};
  expect_returns(
      [&] {
        run_with(0, [&] {
          auto [ln, err] = net::listen("tcp", "127.0.0.1:0");
          ASSERT_FALSE(err) << err;
          const std::string addr = ln.addr().string();
          gocxx::go([ln, &f, &server_write_errors]() mutable {
            for (;;) {
              auto [c, err] = ln.accept();
              if (err) {
                if (!errors::is(err, net::err_closed)) f.add("accept: " + err.message());
                return;
              }
              gocxx::go([c = std::move(c), &f, &server_write_errors]() mutable {
                int small = 4096;  // keeps what a closing client leaves unread small
                ::setsockopt(c.fd(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
                char hello[8];
                auto [n, err] = gocxx::io::read_full(c, std::span<char>(hello, 8));
                if (err) {
                  f.add("server: hello: " + err.message());
                } else {
                  std::string block;
                  for (int i = 0; i < 512; ++i) block.append(hello, 8);  // 4 KiB of records
                  for (;;) {
                    auto [w, werr] = c.write(block);
                    if (werr) {
                      if (!is_reset_or_pipe(werr) || op_of(werr) != "write") {
                        f.add("server: write failed with " + werr.message());
                      }
                      server_write_errors.fetch_add(1);
                      break;
                    }
                  }
                }
                if (error cerr = c.close()) f.add("server: close: " + cerr.message());
              });
            }
          });
          gocxx::sync::WaitGroup wg;
          wg.add(workers);
          for (int w = 0; w < workers; ++w) {
            gocxx::go([&, w] {
              std::vector<char> got;
              for (int it = 0; it < iterations; ++it) {
                auto [c, err] = net::dial("tcp", addr);
                if (err) {
                  f.add("dial: " + err.message());
                  continue;
                }
                int small = 4096;
                ::setsockopt(c.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
                char hello[8];
                put32(hello, static_cast<std::uint32_t>(w));
                put32(hello + 4, static_cast<std::uint32_t>(it));
                auto [n, werr] = c.write(std::string_view(hello, 8));
                if (werr) f.add("client: hello: " + werr.message());
                // Read 0..40 records (the server writes them in 4 KiB blocks).
                std::size_t records = static_cast<std::size_t>((w * 7 + it * 13) % 41);
                got.assign(records * 8, 0);
                auto [m, rerr] = gocxx::io::read_full(c, std::span<char>(got));
                if (rerr) {
                  f.add("client: read: " + rerr.message());
                } else {
                  for (std::size_t r = 0; r < records; ++r) {
                    if (std::memcmp(got.data() + r * 8, hello, 8) != 0) {
                      f.add("client " + std::to_string(w) + "/" + std::to_string(it) +
                            ": record " + std::to_string(r) + " belongs to (" +
                            std::to_string(get32(got.data() + r * 8)) + ", " +
                            std::to_string(get32(got.data() + r * 8 + 4)) + ")");
                      break;
                    }
                  }
                }
                if (error cerr = c.close()) f.add("client close: " + cerr.message());
                exchanges.fetch_add(1);
              }
              wg.done();
            });
          }
          wg.wait();
          // Every server goroutine ends once its write fails; then stop accepting.
          while (server_write_errors.load() < workers * iterations && f.count() == 0) {
            gocxx::time::sleep(1ms);
          }
          EXPECT_FALSE(ln.close());
          join_goroutines();
        });
      },
      "dial/write/close run");
  EXPECT_EQ(f.count(), 0) << f.summary();
  EXPECT_EQ(exchanges.load(), workers * iterations);
  EXPECT_EQ(server_write_errors.load(), workers * iterations);
  expect_no_fd_leak(before, "dial/write/close");
}

// A listener closed and listened again on the same port, over and over, while dialers hammer
// the port. Dials may be refused (no listener) or reset (queued on a listener that closed);
// every exchange that succeeds gets its own reply, and a closed listener's accept fails with
// err_closed only.
TEST(NetFdReuse, ListenerClosedAndReListenedWhileDialersHammer) {
  warm_up_poller();
  const net::Stats before = net::stats();
  const int cycles = scaled_at_least(100, 24);
  const int dialers = 16;
  Failures f;
  std::atomic<int> accepted{0};
  std::atomic<int> successes{0};
  std::atomic<int> failed_dials{0};
  std::atomic<int> relisten_retries{0};
  std::atomic<int> broken_exchanges{0};
  expect_returns(
      [&] {
        run_with(0, [&] {
          const int port = low_free_port();
          ASSERT_NE(port, 0);
          const std::string addr = addr_of(port);
          std::atomic<bool> stop{false};
          gocxx::sync::WaitGroup dialing;
          dialing.add(dialers);
          for (int d = 0; d < dialers; ++d) {
            gocxx::go([&, d] {
              for (std::uint32_t seq = 0; !stop.load(); ++seq) {
                auto [c, err] = net::dial("tcp", addr);
                if (err) {
                  int code = errno_in(err);
                  if (code != ECONNREFUSED && code != ECONNRESET) {
                    f.add("dial: " + err.message());
                  }
                  failed_dials.fetch_add(1);
                  gocxx::yield();
                  continue;
                }
                (void)c.set_deadline(gocxx::time::now() + 30s);  // hang guard only
                char hello[8];
                put32(hello, static_cast<std::uint32_t>(d));
                put32(hello + 4, seq);
                auto [n, werr] = c.write(std::string_view(hello, 8));
                char reply[8];
                auto [m, rerr] =
                    werr ? gocxx::Result<std::size_t>{0, werr}
                         : gocxx::io::read_full(c, std::span<char>(reply, 8));
                if (!rerr) {
                  for (int i = 0; i < 8; ++i) reply[i] = static_cast<char>(reply[i] ^ 0x3c);
                  if (std::memcmp(reply, hello, 8) != 0) {
                    f.add("dialer " + std::to_string(d) + ": reply for (" +
                          std::to_string(get32(reply)) + ", " + std::to_string(get32(reply + 4)) +
                          ")");
                  }
                  successes.fetch_add(1);
                } else if (rerr != gocxx::io::eof && rerr != gocxx::io::err_unexpected_eof &&
                           !is_reset_or_pipe(rerr)) {
                  // Queued on a listener that closed: reset (or EOF). Nothing else.
                  f.add("dialer exchange: " + rerr.message());
                } else {
                  broken_exchanges.fetch_add(1);
                }
                if (error cerr = c.close()) f.add("dialer close: " + cerr.message());
              }
              dialing.done();
            });
          }
          for (int cycle = 0; cycle < cycles; ++cycle) {
            net::Listener ln;
            for (int tries = 0;; ++tries) {
              auto [l, err] = net::listen("tcp", addr);
              if (!err) {
                ln = l;
                break;
              }
              // Only another process taking the port could cause this; retry a little.
              if (errno_in(err) != EADDRINUSE || tries == 200) {
                f.add("re-listen: " + err.message());
                break;
              }
              relisten_retries.fetch_add(1);
              gocxx::time::sleep(5ms);
            }
            if (!ln) break;
            gocxx::Chan<int> accept_done;
            std::atomic<int> this_cycle{0};
            gocxx::go([ln, accept_done, &this_cycle, &f, &accepted]() mutable {
              for (;;) {
                auto [c, err] = ln.accept();
                if (err) {
                  if (!errors::is(err, net::err_closed) || op_of(err) != "accept") {
                    f.add("accept: " + err.message());
                  }
                  break;
                }
                accepted.fetch_add(1);
                this_cycle.fetch_add(1);
                gocxx::go([c = std::move(c), &f]() mutable {
                  char hello[8];
                  auto [n, err] = gocxx::io::read_full(c, std::span<char>(hello, 8));
                  if (!err) {
                    for (int i = 0; i < 8; ++i) hello[i] = static_cast<char>(hello[i] ^ 0x3c);
                    (void)c.write(std::string_view(hello, 8));
                  }
                  (void)c.close();
                });
              }
              accept_done.close();
            });
            // Every fourth listener closes at once (racing with the queued connections and the
            // first accept); the others after a few accepted connections.
            const int target = cycle % 4 == 0 ? 0 : 8;
            while (this_cycle.load() < target && f.count() == 0) gocxx::time::sleep(100us);
            EXPECT_FALSE(ln.close());
            (void)accept_done.recv();
            EXPECT_TRUE(errors::is(ln.close(), net::err_closed));
          }
          stop.store(true);
          dialing.wait();
          join_goroutines();
        });
      },
      "re-listen run");
  EXPECT_EQ(f.count(), 0) << f.summary();
  EXPECT_GE(accepted.load(), (cycles - (cycles + 3) / 4) * 8);
  EXPECT_GT(successes.load(), 0);
  std::printf("[   INFO   ] %d accepted, %d exchanges, %d reset while queued, %d refused dials, "
              "%d re-listen retries\n",
              accepted.load(), successes.load(), broken_exchanges.load(), failed_dials.load(),
              relisten_retries.load());
  expect_no_fd_leak(before, "re-listen");
}

// Close racing with a read blocked (or about to block) on another goroutine, with the peer
// sometimes writing at the same moment; and close racing with a blocked write. The descriptor
// number is reused by the next iteration's sockets every time.
void close_races(const std::string& network, const std::string& address, int iterations) {
  warm_up_poller();
  const net::Stats before = net::stats();
  Failures f;
  std::atomic<int> got_closed{0};
  std::atomic<int> got_byte{0};
  std::atomic<int> blocked_writes{0};
  expect_returns(
      [&] {
        run_with(0, [&] {
          auto [ln, err] = net::listen(network, address);
          ASSERT_FALSE(err) << err;
          const std::string addr = ln.addr().string();
          for (int i = 0; i < iterations && f.count() == 0; ++i) {
            auto [c, derr] = net::dial(network, addr);
            if (derr) {
              f.add("dial: " + derr.message());
              break;
            }
            auto [s, aerr] = ln.accept();
            if (aerr) {
              f.add("accept: " + aerr.message());
              break;
            }
            gocxx::Chan<gocxx::Result<std::size_t>> result(1);
            char byte = 0;
            auto reader = [c, result, &byte]() mutable {
              auto r = c.read(std::span<char>(&byte, 1));
              result.send(r);
            };
            const bool peer_writes = i % 2 == 1;
            if (i % 3 == 0) {
              gocxx::test::go_until_parked(WaitReason::kIOWait, reader);  // surely blocked
            } else {
              gocxx::go(reader);
              for (int y = 0; y < i % 5; ++y) gocxx::yield();
            }
            if (peer_writes) {
              gocxx::go([s]() mutable { (void)s.write("z"); });
            }
            if (error cerr = c.close()) f.add("close: " + cerr.message());
            auto r = result.recv().value();
            if (r.err) {
              if (!errors::is(r.err, net::err_closed) || op_of(r.err) != "read") {
                f.add("read after close: " + r.err.message());
              }
              got_closed.fetch_add(1);
            } else if (!peer_writes || r.value != 1 || byte != 'z') {
              f.add("read returned " + std::to_string(r.value) + " bytes without an error");
            } else {
              got_byte.fetch_add(1);
            }
            error again = c.close();
            if (!errors::is(again, net::err_closed)) f.add("second close: " + again.message());
            if (i % 10 == 0) {
              // A write blocked on a full buffer (the peer never reads), closed under it.
              auto [c2, derr2] = net::dial(network, addr);
              auto [s2, aerr2] = ln.accept();
              if (derr2 || aerr2) {
                f.add("second pair failed");
              } else {
                gocxx::Chan<gocxx::Result<std::size_t>> wres(1);
                const std::string big(8 << 20, 'w');
                gocxx::test::go_until_parked(WaitReason::kIOWait, [s2, wres, &big]() mutable {
                  wres.send(s2.write(big));
                });
                if (error cerr = s2.close()) f.add("close under write: " + cerr.message());
                auto w = wres.recv().value();
                if (!errors::is(w.err, net::err_closed) || op_of(w.err) != "write" ||
                    w.value >= big.size()) {
                  f.add("blocked write after close: " + std::to_string(w.value) + " bytes, " +
                        w.err.message());
                }
                blocked_writes.fetch_add(1);
                (void)c2.close();
              }
            }
            join_goroutines();  // the peer's writer
            if (error serr = s.close()) f.add("peer close: " + serr.message());
          }
          EXPECT_FALSE(ln.close());
        });
      },
      "close race run");
  EXPECT_EQ(f.count(), 0) << f.summary();
  EXPECT_EQ(got_closed.load() + got_byte.load(), iterations);
  EXPECT_GE(got_closed.load(), iterations / 3);  // at least the surely-blocked ones
  EXPECT_EQ(blocked_writes.load(), (iterations + 9) / 10);
  expect_no_fd_leak(before, "close races");
}

TEST(NetFdReuse, CloseRacesWithBlockedReadUnix) {
  TempDir dir("gocxx_net_stress");
  close_races("unix", dir.file("race.sock"), scaled(3000));
}

TEST(NetFdReuse, CloseRacesWithBlockedReadTcp) {
  close_races("tcp", "127.0.0.1:0", scaled(1000));
}

// ---- 3. half close and resets ----------------------------------------------------------------

// Each client sends a request and close_write()s; the server reads to EOF, then replies
// (header and the payload reversed) and closes; the client reads the reply to EOF. A write
// after close_write fails with EPIPE.
TEST(NetHalfClose, CloseWriteThenReplyUnderConcurrency) {
  warm_up_poller();
  const net::Stats before = net::stats();
  const int clients = scaled(2000);
  raise_nofile(static_cast<rlim_t>(2 * clients + before.open_fds + 100));
  Failures f;
  std::atomic<int> ok_clients{0};
  expect_returns(
      [&] {
        run_with(0, [&] {
          auto [ln, err] = net::listen("tcp", "127.0.0.1:0");
          ASSERT_FALSE(err) << err;
          const std::string addr = ln.addr().string();
          gocxx::go([ln, &f]() mutable {
            for (;;) {
              auto [c, err] = ln.accept();
              if (err) {
                if (!errors::is(err, net::err_closed)) f.add("accept: " + err.message());
                return;
              }
              gocxx::go([c = std::move(c), &f]() mutable {
                std::string req;
                char buf[8192];
                for (;;) {
                  auto [n, err] = c.read(std::span<char>(buf, sizeof buf));
                  req.append(buf, n);
                  if (err == gocxx::io::eof) break;
                  if (err) {
                    f.add("server read: " + err.message());
                    (void)c.close();
                    return;
                  }
                }
                if (req.size() < 8 || get32(req.data() + 4) != req.size() - 8) {
                  f.add("server: request of " + std::to_string(req.size()) + " bytes is torn");
                } else {
                  std::string reply = req.substr(0, 8);
                  reply.append(req.rbegin(), req.rend() - 8);
                  auto [w, werr] = c.write(reply);
                  if (werr) f.add("server write: " + werr.message());
                }
                if (error cerr = c.close()) f.add("server close: " + cerr.message());
              });
            }
          });
          gocxx::Chan<int> dial_slots(256);
          gocxx::sync::WaitGroup wg;
          wg.add(clients);
          for (int i = 0; i < clients; ++i) {
            gocxx::go([&, id = static_cast<std::uint32_t>(i), dial_slots]() mutable {
              dial_slots.send(0);
              auto [c, err] = net::dial("tcp", addr);
              (void)dial_slots.recv();
              if (err) {
                f.add("dial: " + err.message());
                wg.done();
                return;
              }
              const std::uint32_t len = (id * 2654435761u) % 70000u;
              std::string req(8 + len, '\0');
              put32(req.data(), id);
              put32(req.data() + 4, len);
              for (std::uint32_t k = 0; k < len; ++k) req[8 + k] = payload_byte(id, 9, k);
              bool ok = true;
              if (auto [n, werr] = c.write(req); werr) {
                f.add("client write: " + werr.message());
                ok = false;
              }
              if (error e = c.close_write()) {
                f.add("close_write: " + e.message());
                ok = false;
              }
              auto [n2, late] = c.write("late");
              if (errno_in(late) != EPIPE || op_of(late) != "write") {
                f.add("write after close_write: " + late.message());
                ok = false;
              }
              std::string reply;
              char buf[8192];
              for (;;) {
                auto [n, rerr] = c.read(std::span<char>(buf, sizeof buf));
                reply.append(buf, n);
                if (rerr == gocxx::io::eof) break;
                if (rerr) {
                  f.add("client read: " + rerr.message());
                  ok = false;
                  break;
                }
              }
              std::string want = req.substr(0, 8);
              want.append(req.rbegin(), req.rend() - 8);
              if (ok && reply != want) {
                f.add("client " + std::to_string(id) + ": reply of " +
                      std::to_string(reply.size()) + " bytes differs");
                ok = false;
              }
              if (error cerr = c.close()) f.add("client close: " + cerr.message());
              if (ok) ok_clients.fetch_add(1);
              wg.done();
            });
          }
          wg.wait();
          EXPECT_FALSE(ln.close());
          join_goroutines();
        });
      },
      "half-close run");
  EXPECT_EQ(f.count(), 0) << f.summary();
  EXPECT_EQ(ok_clients.load(), clients);
  expect_no_fd_leak(before, "half close");
}

// One side resets (set_linger(0) + close) while the other has a read blocked and a write
// streaming: each fails with a wrapped ECONNRESET/EPIPE (or the read with EOF, once the write
// took the reset), never a crash or a SIGPIPE (the default disposition is in force).
TEST(NetReset, LingerZeroCloseWhileThePeerReadsAndWrites) {
  warm_up_poller();
  struct sigaction dfl {}, old{};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  ASSERT_EQ(::sigaction(SIGPIPE, &dfl, &old), 0);  // a SIGPIPE would kill the test
  const net::Stats before = net::stats();
  const int pairs = scaled(400);
  Failures f;
  std::atomic<int> resets_seen{0};
  std::atomic<int> pairs_done{0};
  expect_returns(
      [&] {
        run_with(0, [&] {
          auto [ln, err] = net::listen("tcp", "127.0.0.1:0");
          ASSERT_FALSE(err) << err;
          const std::string addr = ln.addr().string();
          gocxx::sync::WaitGroup wg;
          wg.add(pairs);
          gocxx::Chan<int> slots(64);
          for (int i = 0; i < pairs; ++i) {
            slots.send(0);
            auto [b, derr] = net::dial("tcp", addr);
            auto [a, aerr] = ln.accept();
            if (derr || aerr) {
              f.add("pair: " + derr.message() + " / " + aerr.message());
              (void)slots.recv();
              wg.done();
              continue;
            }
            gocxx::go([&, a, b, slots]() mutable {
              gocxx::Chan<error> errs(2);
              gocxx::go([b, errs]() mutable {  // reader: A never writes
                char buf[64];
                auto [n, err] = b.read(std::span<char>(buf, sizeof buf));
                errs.send(err ? err : errors::make("read returned data"));
              });
              gocxx::go([b, errs]() mutable {  // writer: streams until it fails
                const std::string chunk(16384, 'x');
                for (;;) {
                  auto [n, err] = b.write(chunk);
                  if (err) {
                    errs.send(err);
                    return;
                  }
                }
              });
              std::vector<char> got(65536);
              auto [n, rerr] = gocxx::io::read_full(a, std::span<char>(got));
              if (rerr) f.add("A read: " + rerr.message());
              if (error e = a.set_linger(0)) f.add("set_linger: " + e.message());
              if (error e = a.close()) f.add("A close: " + e.message());
              int resets = 0;
              for (int k = 0; k < 2; ++k) {
                error e = errs.recv().value();
                const bool read_side = op_of(e) == "read";
                if (errno_in(e) == ECONNRESET) ++resets;
                if (e == gocxx::io::eof) continue;  // the write consumed the reset first
                if (!is_reset_or_pipe(e) || (op_of(e) != "read" && op_of(e) != "write") ||
                    (read_side && errno_in(e) != ECONNRESET)) {
                  f.add("B failed with: " + e.message());
                }
              }
              if (resets == 0) f.add("neither side of B saw ECONNRESET");
              resets_seen.fetch_add(resets);
              if (error e = b.close()) f.add("B close: " + e.message());
              pairs_done.fetch_add(1);
              (void)slots.recv();
              wg.done();
            });
          }
          wg.wait();
          EXPECT_FALSE(ln.close());
          join_goroutines();
        });
      },
      "reset run");
  ::sigaction(SIGPIPE, &old, nullptr);
  EXPECT_EQ(f.count(), 0) << f.summary();
  EXPECT_EQ(pairs_done.load(), pairs);
  EXPECT_GE(resets_seen.load(), pairs);
  expect_no_fd_leak(before, "resets");
}

// ---- 4. EMFILE on accept --------------------------------------------------------------------

// The soft RLIMIT_NOFILE under which exactly `room` more descriptors can be opened (a new
// descriptor takes the lowest free number, which must be below the limit).
rlim_t limit_leaving_room(int room) {
  auto fds = open_fd_numbers();
  std::set<int> used(fds.begin(), fds.end());
  int free_seen = 0;
  for (int n = 0;; ++n) {
    if (used.count(n)) continue;
    if (free_seen == room) return static_cast<rlim_t>(n);
    ++free_seen;
  }
}

// Runs in a child process of its own (the limit applies to the whole process): prints
// "emfile: ok" and exits 0, or prints what failed and exits 1.
[[noreturn]] void emfile_child() {
  ::alarm(120);  // hang guard (a thread would not do in a death test's child either)
  std::vector<std::string> failures;
  auto check = [&](bool ok, const std::string& what) {
    if (!ok) failures.push_back(what);
  };
  rlimit saved{};
  ::getrlimit(RLIMIT_NOFILE, &saved);
  run_with(2, [&] {
    {
      // The poller's own descriptors come with the first socket (this is a fresh process).
      // The error paths run once here too, with descriptors to spare: UBSan's vptr check
      // needs a pipe the first time it meets a dynamic type (a shared_ptr control block of
      // each error type), which it could not make while the process is out of descriptors.
      auto [warm, werr] = net::listen("tcp", "127.0.0.1:0");
      check(!werr, "warm-up listen: " + werr.message());
      auto [c, derr] = net::dial("tcp", warm.addr().string());
      auto [s, aerr] = warm.accept();
      check(!derr && !aerr, "warm-up dial/accept");
      auto [l2, lerr] = net::listen("tcp", warm.addr().string());
      check(errno_in(lerr) == EADDRINUSE && !net::is_timeout(lerr) && op_of(lerr) == "listen" &&
                errors::as<os::Errno>(lerr)->temporary() == false &&
                !lerr.message().empty(),
            "warm-up listen in use: " + lerr.message());
      std::vector<net::Conn> copies{c, s};
      copies.clear();
      check(!c.close() && !s.close() && !warm.close(), "warm-up close");
      auto [c2, rerr] = net::dial("tcp", warm.addr().string());
      check(rerr && !rerr.message().empty(), "warm-up refused dial");
      auto [a2, cerr] = warm.accept();
      check(errors::is(cerr, net::err_closed), "warm-up closed accept: " + cerr.message());
      gocxx::time::sleep(1ms);  // starts the timer thread (the server loop below sleeps)
    }
    const net::Stats before = net::stats();
    auto [ln, err] = net::listen("tcp", "127.0.0.1:0");
    if (err) {
      failures.push_back("listen: " + err.message());
      return;
    }
    constexpr int kConns = 8;
    std::vector<net::Conn> clients;
    for (int i = 0; i < kConns; ++i) {
      auto [c, derr] = net::dial("tcp", ln.addr().string());
      check(!derr, "dial: " + derr.message());
      if (derr) return;
      char id = static_cast<char>('a' + i);
      (void)c.write(std::string_view(&id, 1));
      clients.push_back(c);
    }
    // Room for two more descriptors: 8 connections wait, 2 can be accepted.
    rlimit low = saved;
    low.rlim_cur = limit_leaving_room(2);
    if (::setrlimit(RLIMIT_NOFILE, &low) != 0) {
      failures.push_back(std::string("setrlimit: ") + std::strerror(errno));
      return;
    }
    std::vector<net::Conn> accepted;
    for (int i = 0; i < 2; ++i) {
      auto [c, aerr] = ln.accept();
      check(!aerr, "accept within the limit: " + aerr.message());
      if (!aerr) accepted.push_back(c);
    }
    auto expect_emfile = [&](const error& e, const char* op) {
      const auto* code = errors::as<os::Errno>(e);
      check(code && code->code == EMFILE, std::string(op) + ": want EMFILE, got " + e.message());
      check(code && code->temporary(), std::string(op) + ": EMFILE is temporary");
      check(e.message().find("too many open files") != std::string::npos,
            std::string(op) + ": message " + e.message());
      check(op_of(e) == op, std::string(op) + ": op is " + op_of(e));
      check(!net::is_timeout(e), std::string(op) + ": EMFILE is not a timeout");
    };
    {
      auto [c, aerr] = ln.accept();
      expect_emfile(aerr, "accept");
      check(!c, "accept returned a Conn with EMFILE");
    }
    {
      auto [c, derr] = net::dial("tcp", ln.addr().string());
      expect_emfile(derr, "dial");
    }
    {
      auto [l, lerr] = net::listen("tcp", "127.0.0.1:0");
      expect_emfile(lerr, "listen");
    }
    // Closing one connection frees one descriptor: the same listener accepts one more.
    check(!accepted[0].close(), "close");
    {
      auto [c, aerr] = ln.accept();
      check(!aerr, "accept after a close: " + aerr.message());
      if (!aerr) accepted.push_back(c);
      auto [c2, aerr2] = ln.accept();
      expect_emfile(aerr2, "accept");
    }
    // Go's http.Server: back off and retry on a temporary error. The limit goes back up once
    // the server has seen EMFILE; it accepts the rest on the same listener.
    gocxx::Chan<int> saw_emfile(1);
    gocxx::Chan<std::vector<net::Conn>> rest_out(1);
    const int rest = kConns - 3;
    std::string loop_error;  // written by the server loop, read after rest_out.recv()
    gocxx::go([ln, saw_emfile, rest_out, rest, &loop_error]() mutable {
      std::vector<net::Conn> got;
      auto backoff = 5ms;
      bool signalled = false;
      while (static_cast<int>(got.size()) < rest) {
        auto [c, err] = ln.accept();
        if (err) {
          const auto* code = errors::as<os::Errno>(err);
          if (!code || !code->temporary()) {
            loop_error = "server loop: " + err.message();
            break;
          }
          if (!signalled) {
            saw_emfile.send(code->code);
            signalled = true;
          }
          gocxx::time::sleep(backoff);
          backoff = std::min<std::chrono::milliseconds>(backoff * 2, 100ms);
          continue;
        }
        got.push_back(c);
      }
      rest_out.send(std::move(got));
    });
    int code = saw_emfile.recv().value_or(0);
    check(code == EMFILE, "the server loop saw errno " + std::to_string(code));
    check(::setrlimit(RLIMIT_NOFILE, &saved) == 0, "restoring the limit");
    auto more = rest_out.recv().value_or(std::vector<net::Conn>{});
    check(loop_error.empty(), loop_error);
    check(static_cast<int>(more.size()) == rest,
          "server loop accepted " + std::to_string(more.size()));
    for (auto& c : more) accepted.push_back(c);
    // Every waiting client was accepted exactly once, and its own connection answers.
    std::set<char> ids;
    for (auto& c : accepted) {
      if (c == accepted[0]) continue;  // closed above
      char id = 0;
      auto [n, rerr] = c.read(std::span<char>(&id, 1));
      check(!rerr && n == 1, "server read: " + rerr.message());
      ids.insert(id);
      char reply = static_cast<char>(id ^ 0x7f);
      (void)c.write(std::string_view(&reply, 1));
    }
    check(ids.size() == kConns - 1, "distinct clients accepted: " + std::to_string(ids.size()));
    int answered = 0;
    for (int i = 0; i < kConns; ++i) {
      char id = static_cast<char>('a' + i);
      if (!ids.count(id)) continue;  // the one whose server end was closed first
      char reply = 0;
      auto [n, rerr] = clients[i].read(std::span<char>(&reply, 1));
      check(!rerr && reply == static_cast<char>(id ^ 0x7f), "client reply");
      ++answered;
    }
    check(answered == kConns - 1, "answered: " + std::to_string(answered));
    for (auto& c : accepted) (void)c.close();
    for (auto& c : clients) (void)c.close();
    check(!ln.close(), "listener close");
    accepted.clear();
    clients.clear();
    more.clear();
    join_goroutines();
    const net::Stats after = net::stats();
    check(after.open_fds == before.open_fds,
          "open fds " + std::to_string(before.open_fds) + " -> " + std::to_string(after.open_fds));
    check(after.sockets_opened - before.sockets_opened ==
              after.sockets_closed - before.sockets_closed,
          "sockets opened " + std::to_string(after.sockets_opened - before.sockets_opened) +
              ", closed " + std::to_string(after.sockets_closed - before.sockets_closed));
  });
  ::setrlimit(RLIMIT_NOFILE, &saved);
  if (failures.empty()) {
    std::fprintf(stderr, "emfile: ok\n");
    std::_Exit(0);
  }
  for (auto& m : failures) std::fprintf(stderr, "FAIL: %s\n", m.c_str());
  std::_Exit(1);
}

TEST(NetEmfileDeathTest, AcceptReportsEmfileAndTheSameListenerRecovers) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(emfile_child(), testing::ExitedWithCode(0), "emfile: ok");
}

// ---- 5. descriptor leaks on error paths -------------------------------------------------------

TEST(NetFdLeak, ErrorPathsCloseWhatTheyOpened) {
  warm_up_poller();
  const net::Stats before = net::stats();
  expect_returns(
      [&] {
        run_with(0, [&] {
          // Refused: a port nobody listens on (below the ephemeral range: no self-connect).
          const int dead_port = low_free_port();
          ASSERT_NE(dead_port, 0);
          for (int i = 0; i < 100; ++i) {
            auto [c, err] = net::dial("tcp", addr_of(dead_port));
            ASSERT_TRUE(err);
            EXPECT_EQ(errno_in(err), ECONNREFUSED) << err;
            EXPECT_THAT(err.message(), HasSubstr("connection refused"));
            EXPECT_EQ(op_of(err), "dial");
            EXPECT_FALSE(c);
          }
          // Listen on a port in use.
          auto [ln, err] = net::listen("tcp", "127.0.0.1:0");
          ASSERT_FALSE(err) << err;
          for (int i = 0; i < 100; ++i) {
            auto [l2, lerr] = net::listen("tcp", ln.addr().string());
            ASSERT_TRUE(lerr);
            EXPECT_EQ(errno_in(lerr), EADDRINUSE) << lerr;
            EXPECT_THAT(lerr.message(), HasSubstr("address already in use"));
            EXPECT_EQ(op_of(lerr), "listen");
          }
          // Accept on a closed listener, and a blocked accept woken by close.
          auto blocked = gocxx::Chan<error>(1);
          gocxx::test::go_until_parked(WaitReason::kIOWait, [ln, blocked]() mutable {
            auto [c, e] = ln.accept();
            blocked.send(e);
          });
          EXPECT_FALSE(ln.close());
          error woken = blocked.recv().value();
          EXPECT_TRUE(errors::is(woken, net::err_closed)) << woken;
          EXPECT_EQ(op_of(woken), "accept");
          for (int i = 0; i < 10; ++i) {
            auto [c, aerr] = ln.accept();
            EXPECT_TRUE(errors::is(aerr, net::err_closed)) << aerr;
            EXPECT_FALSE(c);
          }
          EXPECT_TRUE(errors::is(ln.close(), net::err_closed));

          // dial_context: cancelled before the dial.
          {
            auto [ctx, cancel] = ctxns::with_cancel(ctxns::background());
            cancel();
            auto [c, derr] = net::dial_context(ctx, "tcp", addr_of(dead_port));
            EXPECT_TRUE(errors::is(derr, ctxns::canceled)) << derr;
            EXPECT_THAT(derr.message(), HasSubstr("operation was canceled"));
          }
          // A connect that stays pending: a listener with a full accept queue drops SYNs.
          int raw = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
          ASSERT_GE(raw, 0);
          sockaddr_in sa{};
          sa.sin_family = AF_INET;
          sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
          ASSERT_EQ(::bind(raw, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
          ASSERT_EQ(::listen(raw, 0), 0);
          socklen_t salen = sizeof sa;
          ::getsockname(raw, reinterpret_cast<sockaddr*>(&sa), &salen);
          const std::string full = addr_of(ntohs(sa.sin_port));
          // Fill the accept queue until a dial stays pending (times out): only then does the
          // kernel drop new SYNs. How many fit depends on the kernel and on timing (slow
          // sanitizer builds), so count, rather than assume, them.
          std::vector<net::Conn> fillers;
          bool full_queue = false;
          for (int i = 0; i < 16 && !full_queue; ++i) {
            auto [c, ferr] = net::dial_timeout("tcp", full, 200ms);
            if (!ferr) fillers.push_back(c);
            full_queue = ferr && net::is_timeout(ferr);
          }
          ASSERT_TRUE(full_queue) << "the accept queue never filled";
          // Cancelled while the connect is pending (parked on the poller). Now and then the
          // kernel lets a connect through even so (a queue slot frees up under a loaded
          // machine): such a connection joins the fillers, and only the cancelled ones are
          // checked, of which there must be some.
          int cancelled = 0;
          for (int i = 0; i < 20; ++i) {
            auto [ctx, cancel] = ctxns::with_cancel(ctxns::background());
            gocxx::Chan<error> out(1);
            std::atomic<bool> finished{false};
            std::atomic<gocxx::detail::G*> who{nullptr};
            gocxx::go([&, ctx, out]() mutable {
              who.store(gocxx::detail::current_g());
              auto [c, derr] = net::dial_context(ctx, "tcp", full);
              if (!derr) fillers.push_back(c);
              finished.store(true);
              out.send(derr);
            });
            while (!finished.load() &&
                   !(who.load() && gocxx::test::parked_for(who.load(), WaitReason::kIOWait))) {
              gocxx::yield();
            }
            cancel();
            error derr = out.recv().value();
            if (!derr) continue;
            ++cancelled;
            EXPECT_TRUE(errors::is(derr, ctxns::canceled)) << derr;
            EXPECT_EQ(op_of(derr), "dial");
          }
          EXPECT_GT(cancelled, 0);
          // A context deadline, and dial_timeout, during the pending connect (again, a
          // connect the kernel lets through becomes a filler).
          int deadline_errors = 0, timeout_errors = 0;
          for (int i = 0; i < 5; ++i) {
            auto [ctx, cancel] = ctxns::with_timeout(ctxns::background(), 20ms);
            auto [c, derr] = net::dial_context(ctx, "tcp", full);
            if (derr) {
              ++deadline_errors;
              EXPECT_TRUE(errors::is(derr, os::err_deadline_exceeded)) << derr;
              EXPECT_TRUE(net::is_timeout(derr)) << derr;
            } else {
              fillers.push_back(c);
            }
            cancel();
            auto [c2, terr] = net::dial_timeout("tcp", full, 20ms);
            if (terr) {
              ++timeout_errors;
              EXPECT_TRUE(net::is_timeout(terr)) << terr;
              EXPECT_THAT(terr.message(), HasSubstr("i/o timeout"));
            } else {
              fillers.push_back(c2);
            }
          }
          EXPECT_GT(deadline_errors, 0);
          EXPECT_GT(timeout_errors, 0);
          for (auto& c : fillers) EXPECT_FALSE(c.close());
          fillers.clear();
          ::close(raw);
          join_goroutines();
        });
      },
      "error paths run");
  expect_no_fd_leak(before, "error paths");
}

// ---- 6. deadlock detection with goroutines waiting on the poller -------------------------------

class NetDeadlockDeathTest : public testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

// No false positive: main waits in accept() and then read() for a peer that is another process
// (forked before the run, so no gocxx thread is lost), while another goroutine is blocked on
// a channel forever. Nothing in the process can end the waits, yet they end: the run returns.
[[noreturn]] void io_waiters_are_not_a_deadlock() {
  ::alarm(30);  // hang guard (a thread would postpone the deadlock verdict)
  auto [ln, err] = net::listen("tcp", "127.0.0.1:0");  // a plain thread, before the run
  if (err) std::_Exit(3);
  const int port = ln.addr().port();
  pid_t peer = ::fork();
  if (peer == 0) external_peer(port, 700ms, 300ms, "x");
  std::string got;
  run_with(2, [&] {
    gocxx::Chan<int> never;
    gocxx::go([never]() mutable { (void)never.recv(); });
    auto [c, aerr] = ln.accept();  // IO wait
    if (aerr) std::_Exit(4);
    char buf[8];
    auto [n, rerr] = c.read(std::span<char>(buf, sizeof buf));  // IO wait
    if (rerr) std::_Exit(5);
    got.assign(buf, n);
    auto [n2, eof] = c.read(std::span<char>(buf, sizeof buf));  // IO wait, then EOF
    if (eof == gocxx::io::eof) got += "+eof";
    (void)c.close();
    (void)ln.close();
  });
  int status = 0;
  ::waitpid(peer, &status, 0);
  std::fprintf(stderr, "read [%s], peer status %d\n", got.c_str(), status);
  std::_Exit(0);
}

TEST_F(NetDeadlockDeathTest, GoroutinesWaitingOnThePollerAreNotADeadlock) {
  EXPECT_EXIT(io_waiters_are_not_a_deadlock(), testing::ExitedWithCode(0),
              "^read \\[x\\+eof\\], peer status 0\n$");
}

// The last IO waiter gone (its read deadline passed), main blocks on a channel: deadlock.
// Known to hang now and then (until the alarm): the deadline timer still counts as pending
// (timer.cpp publishes the count only after the callback's ready()) when the last M goes
// idle, and deadlock_undecided() then answers "not deadlocked" without a re-check. The same
// happens with time::sleep() followed by a deadlock: a runtime bug, not this test's.
[[noreturn]] void deadlock_after_io_timeout() {
  ::alarm(30);  // hang guard (a thread would postpone the deadlock verdict)
  run_with(2, [] {
    auto [ln, err] = net::listen("tcp", "127.0.0.1:0");
    auto [c, derr] = net::dial("tcp", ln.addr().string());
    auto [s, aerr] = ln.accept();
    if (err || derr || aerr) std::_Exit(3);
    (void)c.set_read_deadline(gocxx::time::now() + 30ms);
    char b;
    auto [n, rerr] = c.read(std::span<char>(&b, 1));
    if (!net::is_timeout(rerr)) std::_Exit(4);
    std::fprintf(stderr, "read: %s\n", rerr.message().c_str());
    gocxx::Chan<int> never;
    (void)never.recv();  // the connections stay open: registered, but nobody waits
  });
  std::_Exit(0);
}

TEST_F(NetDeadlockDeathTest, ReportedOnceTheIOWaiterTimedOut) {
  EXPECT_EXIT(deadlock_after_io_timeout(), testing::ExitedWithCode(2),
              AllOf(ContainsRegex("read: read tcp [0-9.:]+->[0-9.:]+: i/o timeout\n"
                                  "fatal error: all goroutines are asleep - deadlock!\n"),
                    HasSubstr("goroutine 1 [chan receive]:"), Not(HasSubstr("[IO wait]"))));
}

// The IO waiter woken by close() from another goroutine, which then exits; main blocks on a
// channel: deadlock.
[[noreturn]] void deadlock_after_io_close() {
  ::alarm(30);  // hang guard (a thread would postpone the deadlock verdict)
  run_with(2, [] {
    auto [ln, err] = net::listen("tcp", "127.0.0.1:0");
    auto [c, derr] = net::dial("tcp", ln.addr().string());
    auto [s, aerr] = ln.accept();
    if (err || derr || aerr) std::_Exit(3);
    gocxx::detail::G* self = gocxx::detail::current_g();
    gocxx::go([c, self]() mutable {
      while (!gocxx::test::parked_for(self, WaitReason::kIOWait)) gocxx::yield();
      (void)c.close();
    });
    char b;
    auto [n, rerr] = c.read(std::span<char>(&b, 1));
    if (!errors::is(rerr, net::err_closed)) std::_Exit(4);
    std::fprintf(stderr, "read: %s\n", rerr.message().c_str());
    while (gocxx::num_goroutine() > 1) gocxx::yield();  // the closer has exited
    gocxx::Chan<int> never;
    (void)never.recv();
  });
  std::_Exit(0);
}

TEST_F(NetDeadlockDeathTest, ReportedOnceTheIOWaiterWasClosedOut) {
  EXPECT_EXIT(deadlock_after_io_close(), testing::ExitedWithCode(2),
              AllOf(ContainsRegex("read: read tcp [0-9.:]+->[0-9.:]+: use of closed network "
                                  "connection\nfatal error: all goroutines are asleep - deadlock!\n"),
                    HasSubstr("goroutine 1 [chan receive]:"), Not(HasSubstr("[IO wait]")),
                    Not(HasSubstr("goroutine 2 "))));
}

// A real deadlock elsewhere (main blocked on a channel forever) is reported only when Go would:
// not while goroutine A waits on the poller for a peer outside the process, but once A's
// connection has delivered its byte and its EOF and A blocks on a channel too.
[[noreturn]] void deadlock_after_last_io_wait() {
  ::alarm(30);  // hang guard (a thread would postpone the deadlock verdict)
  auto [ln, err] = net::listen("tcp", "127.0.0.1:0");  // a plain thread, before the run
  if (err) std::_Exit(3);
  pid_t peer = ::fork();
  if (peer == 0) external_peer(ln.addr().port(), 500ms, 500ms, "x");
  run_with(2, [ln]() mutable {
    gocxx::Chan<int> never;
    gocxx::go([ln, never]() mutable {
      auto [c, aerr] = ln.accept();  // IO wait
      if (aerr) std::_Exit(4);
      char buf[8];
      auto [n, rerr] = c.read(std::span<char>(buf, sizeof buf));  // IO wait
      if (rerr) std::_Exit(5);
      std::fprintf(stderr, "A read [%.*s]\n", static_cast<int>(n), buf);
      auto [n2, eof] = c.read(std::span<char>(buf, sizeof buf));  // IO wait until EOF
      std::fprintf(stderr, "A then: %s\n", eof.message().c_str());
      (void)never.recv();  // A's connection stays open, but nothing waits on it
    });
    (void)never.recv();  // blocked forever from the start
  });
  std::_Exit(0);
}

TEST_F(NetDeadlockDeathTest, ReportedOnlyAfterTheLastIOWaitEnds) {
  EXPECT_EXIT(deadlock_after_last_io_wait(), testing::ExitedWithCode(2),
              AllOf(ContainsRegex("^A read \\[x\\]\nA then: EOF\n"
                                  "fatal error: all goroutines are asleep - deadlock!\n"),
                    HasSubstr("goroutine 1 [chan receive]:"),
                    HasSubstr("goroutine 2 [chan receive]:"), Not(HasSubstr("[IO wait]"))));
}

}  // namespace

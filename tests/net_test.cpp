// Tests for gocxx::net on live sockets: Go 1.19's net tests ported (net_test.go: TestCloseRead,
// TestCloseWrite, TestConnClose, TestListenerClose, TestPacketConnClose, TestListenCloseListen,
// TestZeroByteRead, TestReadTimeoutUnblocksRead, TestCloseUnblocksRead; timeout_test.go: the
// read/write/accept/dial time-outs, TestReadTimeoutMustNotReturn, TestVariousDeadlines-like
// moved deadlines, TestReadWriteDeadlineRace, TestConcurrentSetDeadline; dial_test.go:
// TestDialCancel, TestDialTimeout; tcpsock_test.go: TestTCPReadWriteAllocs, TestTCPStress,
// TestTCPConcurrentAccept; udpsock_test.go, unixsock_test.go, conn_test.go), plus what is
// gocxx's own: the "IO wait" wait reason, plain OS threads (with and without a run),
// close-on-exec descriptors, and net::stats() fd accounting.
//
// Loopback only: 127.0.0.1, ::1 and Unix sockets in a temporary directory. A dial that must
// stay "in progress" goes to a listener whose accept queue is full (backlog 0, one connection
// queued): Linux drops further SYNs, so the connect waits until the dialer gives up.
//
// Nothing asserts how long something took. Sleeps only give a wrong outcome the chance to show
// (a read that would fail at a deadline that was moved away); "fails at once" is asserted on
// the error value (and on no connection being made). Every test runs under a hang guard
// (gocxx::test::expect_returns: SIGQUIT goroutine dump after 120 s).
#include "temp_dir.hpp"
#include "test_util.hpp"

#include <arpa/inet.h>
#include <execinfo.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <new>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gocxx/context.hpp>
#include <gocxx/debug.hpp>
#include <gocxx/io.hpp>
#include <gocxx/net.hpp>
#include <gocxx/os.hpp>

// ---- allocation counting (NetAllocs) ------------------------------------------------------
// Every operator new of the process is counted while g_count_allocs is set: the measured loops
// run with it on, so any heap allocation by any thread (the measured goroutine, its peer, the
// scheduler's other Ms, the timer thread) during the loop is counted. Goroutines migrate
// between threads, so a thread-local flag would not do.
// The call stacks of the first few counted allocations are kept (backtrace(3) into static
// buffers: no allocation) for the failure message.
namespace {
std::atomic<bool> g_count_allocs{false};
std::atomic<long> g_allocs{0};
constexpr int kKeptStacks = 4;
constexpr int kStackDepth = 32;
void* g_alloc_stacks[kKeptStacks][kStackDepth];
int g_alloc_depths[kKeptStacks];

void count_alloc() {
  if (!g_count_allocs.load(std::memory_order_relaxed)) return;
  long i = g_allocs.fetch_add(1, std::memory_order_relaxed);
  if (i < kKeptStacks) g_alloc_depths[i] = ::backtrace(g_alloc_stacks[i], kStackDepth);
}

void* counted_alloc(std::size_t n) {
  count_alloc();
  return std::malloc(n ? n : 1);
}

void* counted_aligned_alloc(std::size_t n, std::align_val_t a) {
  count_alloc();
  std::size_t align = static_cast<std::size_t>(a);
  if (align < sizeof(void*)) align = sizeof(void*);
  void* p = nullptr;
  if (::posix_memalign(&p, align, n ? n : 1) != 0) return nullptr;
  return p;
}
}  // namespace

void* operator new(std::size_t n) {
  if (void* p = counted_alloc(n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  if (void* p = counted_alloc(n)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return counted_alloc(n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return counted_alloc(n); }
void* operator new(std::size_t n, std::align_val_t a) {
  if (void* p = counted_aligned_alloc(n, a)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t a) {
  if (void* p = counted_aligned_alloc(n, a)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return counted_aligned_alloc(n, a);
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return counted_aligned_alloc(n, a);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }

namespace {

using namespace std::chrono_literals;
namespace net = gocxx::net;
namespace io = gocxx::io;
namespace os = gocxx::os;
namespace errors = gocxx::errors;
namespace ctxs = gocxx::context;
using gocxx::Chan;
using gocxx::error;
using gocxx::go;
using gocxx::Result;
using gocxx::test::go_until_parked;
using gocxx::test::scaled;
using gocxx::test::TempDir;
using gocxx::time::TimePoint;

constexpr auto kIOWait = gocxx::detail::WaitReason::kIOWait;
constexpr const char* kClosedText = "use of closed network connection";

// ---- harness ------------------------------------------------------------------------------

std::string test_name() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return std::string(info->test_suite_name()) + "." + info->name();
}

// body as the main goroutine of a run with `procs` Ps, which then waits for the goroutines the
// body started; under a hang guard.
template <class F>
void net_run(int procs, F body) {
  std::string name = test_name();
  gocxx::test::expect_returns([&] { gocxx::test::run_joined(procs, body); }, name.c_str());
}

// body on a plain thread, no gocxx::run at all; under a hang guard.
template <class F>
void guarded(F body) {
  std::string name = test_name();
  gocxx::test::expect_returns(body, name.c_str());
}

// Receives from c, or nullopt after `limit`: a hang guard that reports, not a timing check.
template <class T>
std::optional<T> recv_within(Chan<T>& c, gocxx::time::Duration limit = 60s) {
  std::optional<T> got;
  gocxx::select(gocxx::recv_case(c, [&](std::optional<T> v) { got = std::move(v); }),
                gocxx::recv_case(gocxx::time::after(limit)));
  return got;
}

// Starts a read of up to n bytes on c in a goroutine and returns once it is parked on the
// poller; the result arrives on the returned channel.
Chan<Result<std::size_t>> parked_read(net::Conn c, std::size_t n) {
  Chan<Result<std::size_t>> done(1);
  go_until_parked(kIOWait, [c, done, n]() mutable {
    std::vector<char> b(n);
    done.send(c.read(b));
  });
  return done;
}

// A temporary directory for Unix sockets (short path: sun_path holds 107 bytes).
// A listener with one dialed and one accepted connection.
struct Pair {
  net::Listener ln;
  net::Conn client;  // dialed
  net::Conn server;  // accepted
  explicit operator bool() const { return ln && client && server; }
};

Pair connected(std::string_view network = "tcp", std::string_view address = "127.0.0.1:0") {
  Pair p;
  auto [ln, err] = net::listen(network, address);
  if (err) {
    ADD_FAILURE() << "listen " << network << " " << address << ": " << err;
    return p;
  }
  auto [client, dial_err] = net::dial(ln.addr().network(), ln.addr().string());
  if (dial_err) {
    ADD_FAILURE() << "dial: " << dial_err;
    return p;
  }
  auto [server, accept_err] = ln.accept();
  if (accept_err) {
    ADD_FAILURE() << "accept: " << accept_err;
    return p;
  }
  p.ln = ln;
  p.client = client;
  p.server = server;
  return p;
}

// The stream networks the close tests run on, with an address to listen on.
struct StreamNet {
  std::string network;
  std::unique_ptr<TempDir> dir;
  std::string address() const { return network == "unix" ? dir->file("s.sock") : "127.0.0.1:0"; }
  explicit StreamNet(std::string n) : network(std::move(n)) {
    if (network == "unix") dir = std::make_unique<TempDir>();
  }
  Pair pair() const { return connected(network, address()); }
};

// Go's isDeadlineExceeded: a net error whose Timeout() is true and that wraps
// os.ErrDeadlineExceeded.
::testing::AssertionResult is_deadline_error(const error& err) {
  if (!err) return ::testing::AssertionFailure() << "nil error";
  if (!errors::is(err, os::err_deadline_exceeded)) {
    return ::testing::AssertionFailure() << "\"" << err << "\" does not wrap os::err_deadline_exceeded";
  }
  if (!net::is_timeout(err)) return ::testing::AssertionFailure() << "\"" << err << "\": is_timeout false";
  const auto* op = errors::as<net::OpError>(err);
  if (op == nullptr) return ::testing::AssertionFailure() << "\"" << err << "\" is not an OpError";
  if (!op->timeout()) return ::testing::AssertionFailure() << "\"" << err << "\": OpError::timeout false";
  if (!err.message().ends_with(": i/o timeout")) {
    return ::testing::AssertionFailure() << "\"" << err << "\" does not end in \": i/o timeout\"";
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult is_closed_error(const error& err) {
  if (!err) return ::testing::AssertionFailure() << "nil error";
  if (!errors::is(err, net::err_closed)) {
    return ::testing::AssertionFailure() << "\"" << err << "\" does not wrap net::err_closed";
  }
  if (!err.message().ends_with(std::string(": ") + kClosedText)) {
    return ::testing::AssertionFailure() << "\"" << err << "\" does not end in \": " << kClosedText << "\"";
  }
  if (net::is_timeout(err)) return ::testing::AssertionFailure() << "\"" << err << "\" is a time-out";
  return ::testing::AssertionSuccess();
}

// "op net local->remote" of an error on a connected socket (Go's OpError text).
std::string conn_prefix(const char* op, const net::Conn& c) {
  return std::string(op) + " " + c.local_addr().network() + " " + c.local_addr().string() + "->" +
         c.remote_addr().string();
}

// Echoes what c reads until a read or write fails, then closes c.
void echo(net::Conn c) {
  char buf[4096];
  for (;;) {
    auto [n, err] = c.read(buf);
    if (n > 0 && c.write(std::string_view(buf, n)).err) break;
    if (err) break;
  }
  (void)c.close();
}

// Writes msg on c and reads the echo back.
::testing::AssertionResult round_trip(net::Conn& c, const std::string& msg) {
  auto w = c.write(msg);
  if (w.err || w.value != msg.size()) {
    return ::testing::AssertionFailure() << "write: " << w.value << " bytes, " << w.err;
  }
  std::string got(msg.size(), '\0');
  auto r = io::read_full(c, std::span<char>(got));
  if (r.err) return ::testing::AssertionFailure() << "read_full: " << r.value << " bytes, " << r.err;
  if (got != msg) return ::testing::AssertionFailure() << "echo \"" << got << "\" != \"" << msg << "\"";
  return ::testing::AssertionSuccess();
}

bool is_cloexec(int fd) {
  int flags = ::fcntl(fd, F_GETFD);
  return flags >= 0 && (flags & FD_CLOEXEC) != 0;
}

bool is_nonblocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  return flags >= 0 && (flags & O_NONBLOCK) != 0;
}

// A closed loopback port: listened on, then closed.
std::string closed_port_address() {
  auto [ln, err] = net::listen("tcp", "127.0.0.1:0");
  if (err) {
    ADD_FAILURE() << err;
    return "127.0.0.1:1";
  }
  std::string addr = ln.addr().string();
  (void)ln.close();
  return addr;
}

// A TCP listener on 127.0.0.1 made with the raw socket API with a backlog of 0, and filled:
// one connection waits in its accept queue, after which Linux drops new SYNs (the queue is
// full), so a connect to it stays in progress until the dialer gives up. Fullness is read from
// TCP_INFO (a listener reports its queue length in tcpi_unacked and its limit in tcpi_sacked),
// not guessed from timing.
class FullBacklogListener {
 public:
  FullBacklogListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(fd_, 0) != 0 || ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      ADD_FAILURE() << "raw listener: " << std::strerror(errno);
      return;
    }
    address_ = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  }
  ~FullBacklogListener() {
    queued_.clear();
    if (fd_ >= 0) ::close(fd_);
  }
  FullBacklogListener(const FullBacklogListener&) = delete;
  FullBacklogListener& operator=(const FullBacklogListener&) = delete;

  const std::string& address() const { return address_; }

  bool full() const {
    tcp_info ti{};
    socklen_t len = sizeof ti;
    if (::getsockopt(fd_, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0) return false;
    return ti.tcpi_unacked > ti.tcpi_sacked;
  }

  // Dials once (the handshake completes into the queue) and waits until the queue is full.
  ::testing::AssertionResult fill() {
    if (address_.empty()) return ::testing::AssertionFailure() << "no listener";
    auto [c, err] = net::dial("tcp", address_);
    if (err) return ::testing::AssertionFailure() << "dial: " << err;
    queued_.push_back(c);
    if (!gocxx::test::eventually([&] { return full(); })) {
      return ::testing::AssertionFailure() << "the accept queue never filled (TCP_INFO)";
    }
    return ::testing::AssertionSuccess();
  }

 private:
  int fd_ = -1;
  std::string address_;
  std::vector<net::Conn> queued_;
};

// The thread's kernel id.
pid_t this_tid() { return static_cast<pid_t>(::syscall(SYS_gettid)); }

// True while thread `tid` of this process sleeps in ppoll (how gocxx::net waits on a plain
// thread), as far as /proc tells: state 'S', and the system call in progress is ppoll where
// /proc/<tid>/syscall may be read.
bool thread_waits_in_poll(pid_t tid) {
  std::string dir = "/proc/self/task/" + std::to_string(tid);
  std::ifstream stat(dir + "/stat");
  std::string line;
  std::getline(stat, line);
  auto close = line.rfind(')');
  if (close == std::string::npos || close + 2 >= line.size() || line[close + 2] != 'S') return false;
  std::ifstream sc(dir + "/syscall");
  std::string first;
  if (!(sc >> first)) return true;  // not readable here: the sleeping state is all we know
  if (first == "running") return false;
  return std::strtol(first.c_str(), nullptr, 10) == SYS_ppoll;
}

// Waits (liveness bound 60 s) until the thread whose id is published in `tid` waits in ppoll.
::testing::AssertionResult wait_thread_blocked(const std::atomic<pid_t>& tid) {
  for (int i = 0; i < 60000; ++i) {
    pid_t t = tid.load(std::memory_order_acquire);
    if (t != 0 && thread_waits_in_poll(t)) return ::testing::AssertionSuccess();
    gocxx::time::sleep(1ms);
  }
  return ::testing::AssertionFailure() << "the thread never blocked in ppoll";
}

// Starts counting every allocation of the process (see the top of the file).
void start_counting_allocs() {
  void* warm[1];
  (void)::backtrace(warm, 1);  // its first call loads libgcc_s (and allocates): do it before
  g_allocs.store(0);
  g_count_allocs.store(true);
}

// Stops counting; returns how many there were.
long stop_counting_allocs() {
  g_count_allocs.store(false);
  return g_allocs.load();
}

// The kept call stacks of the counted allocations, for a failure message.
std::string counted_alloc_stacks() {
  std::string out;
  long n = std::min<long>(g_allocs.load(), kKeptStacks);
  for (long i = 0; i < n; ++i) {
    out += "allocation " + std::to_string(i) + ":\n";
    char** names = ::backtrace_symbols(g_alloc_stacks[i], g_alloc_depths[i]);
    for (int f = 0; f < g_alloc_depths[i]; ++f) {
      out += "  ";
      out += names ? names[f] : "?";
      out += "\n";
    }
    std::free(names);
  }
  return out;
}

class NetP : public ::testing::TestWithParam<int> {};        // procs
class NetStressP : public ::testing::TestWithParam<int> {};  // procs
class NetStreamP : public ::testing::TestWithParam<const char*> {};  // "tcp", "unix"

// ---- connections, half close, close ---------------------------------------------------------

// Go's TestConnAndListener: data both ways, and each end names the other.
TEST_P(NetStreamP, EchoAndAddresses) {
  StreamNet sn(GetParam());
  for (int procs : {1, 2}) {
    net_run(procs, [&] {
      Pair p = sn.pair();
      ASSERT_TRUE(p);
      EXPECT_EQ(p.ln.addr().network(), sn.network);
      EXPECT_EQ(p.client.remote_addr(), p.ln.addr());
      EXPECT_EQ(p.server.local_addr(), p.ln.addr());
      EXPECT_EQ(p.client.remote_addr().network(), sn.network);
      if (sn.network == "tcp") {
        EXPECT_EQ(p.server.remote_addr(), p.client.local_addr());
        EXPECT_EQ(p.client.local_addr().ip(), "127.0.0.1");
        EXPECT_NE(p.client.local_addr().port(), 0);
      } else {
        EXPECT_EQ(p.ln.addr().string(), sn.address());
      }
      go(echo, p.server);
      for (int i = 0; i < 20; ++i) {
        EXPECT_TRUE(round_trip(p.client, "message " + std::to_string(i) + " over " + sn.network));
      }
      EXPECT_FALSE(p.client.close());
      EXPECT_FALSE(p.ln.close());
    });
  }
}

// Go's TestCloseRead: after close_read, reads return io::eof (unwrapped, as Go's); writing
// still works.
TEST_P(NetStreamP, CloseRead) {
  StreamNet sn(GetParam());
  net_run(2, [&] {
    Pair p = sn.pair();
    ASSERT_TRUE(p);
    ASSERT_FALSE(p.client.close_read());
    char b[1];
    for (int i = 0; i < 2; ++i) {
      auto [n, err] = p.client.read(b);
      EXPECT_EQ(n, 0u);
      EXPECT_EQ(err, io::eof) << err;
    }
    EXPECT_FALSE(p.client.write("x").err);
    auto r = io::read_full(p.server, std::span<char>(b));
    EXPECT_FALSE(r.err) << r.err;
    EXPECT_EQ(b[0], 'x');
  });
}

// After a read that returned less than it asked for, the next read waits for the poller's
// edge instead of trying the socket (NetFD::read). Whatever comes next must still wake it:
// more data, the peer's close (its FIN may have gone with the last bytes), close_read; and a
// long exchange of small messages loses or reorders nothing.
TEST_P(NetStreamP, ReadsAfterAShortReadSeeDataEofAndCloseRead) {
  StreamNet sn(GetParam());
  for (int procs : {1, 2}) {
    net_run(procs, [&] {
      char buf[4096];
      {
        Pair p = sn.pair();
        ASSERT_TRUE(p);
        ASSERT_FALSE(p.client.write("abc").err);
        ASSERT_FALSE(p.client.close());  // data and FIN back to back
        std::string got;
        error err;
        while (!err) {
          auto r = p.server.read(buf);
          got.append(buf, r.value);
          err = r.err;
        }
        EXPECT_EQ(got, "abc");
        EXPECT_EQ(err, io::eof) << err;
      }
      {
        Pair p = sn.pair();
        ASSERT_TRUE(p);
        ASSERT_FALSE(p.client.write("abc").err);
        auto [n, err] = p.server.read(buf);  // short: the socket is empty now
        ASSERT_FALSE(err) << err;
        EXPECT_EQ(std::string(buf, n), "abc");
        Chan<Result<std::size_t>> later = parked_read(p.server, 8);
        ASSERT_FALSE(p.client.write("defg").err);
        auto r = recv_within(later);
        ASSERT_TRUE(r) << "data after a short read did not wake the reader";
        EXPECT_EQ(r->value, 4u) << r->err;
        ASSERT_FALSE(p.client.write("x").err);
        auto [n2, err2] = p.server.read(buf);
        ASSERT_FALSE(err2) << err2;
        ASSERT_EQ(n2, 1u);
        ASSERT_FALSE(p.server.close_read());
        auto [n3, err3] = p.server.read(buf);
        EXPECT_EQ(n3, 0u);
        EXPECT_EQ(err3, io::eof) << err3;
      }
      {
        Pair p = sn.pair();
        ASSERT_TRUE(p);
        constexpr int kMessages = 2000;
        gocxx::go([c = p.client]() mutable {
          for (int i = 0; i < kMessages; ++i) {
            std::string m(static_cast<std::size_t>(1 + i % 97), static_cast<char>('a' + i % 26));
            if (c.write(m).err) return;
            if (i % 7 == 0) gocxx::yield();
          }
          (void)c.close();
        });
        std::size_t total = 0, expected = 0;
        std::string tail;
        for (int i = 0; i < kMessages; ++i) expected += static_cast<std::size_t>(1 + i % 97);
        for (;;) {
          auto [n, err] = p.server.read(buf);
          total += n;
          if (err) {
            EXPECT_EQ(err, io::eof) << err;
            break;
          }
        }
        EXPECT_EQ(total, expected);
      }
    });
  }
}

// A read parked in the poller is woken by close_read on its own connection (the kernel
// reports the read side shut down) and returns io::eof.
TEST_P(NetStreamP, CloseReadWakesBlockedRead) {
  StreamNet sn(GetParam());
  net_run(2, [&] {
    Pair p = sn.pair();
    ASSERT_TRUE(p);
    Chan<Result<std::size_t>> done = parked_read(p.client, 8);
    ASSERT_FALSE(p.client.close_read());
    auto r = recv_within(done);
    ASSERT_TRUE(r) << "close_read did not wake the read";
    EXPECT_EQ(r->value, 0u);
    EXPECT_EQ(r->err, io::eof) << r->err;
  });
}

// Go's TestCloseWrite: after close_write the peer reads io::eof and can still write back;
// writing after one's own close_write fails (EPIPE).
TEST_P(NetStreamP, CloseWrite) {
  StreamNet sn(GetParam());
  net_run(2, [&] {
    Pair p = sn.pair();
    ASSERT_TRUE(p);
    Chan<std::string> server_failure(1);
    net::Conn s = p.server;
    go([s, server_failure]() mutable {
      char b[1];
      auto [n, err] = s.read(b);
      if (n != 0 || err != io::eof) {
        server_failure.send("server read: want (0, EOF), got (" + std::to_string(n) + ", " + err.message() + ")");
        return;
      }
      if (auto w = s.write("pong"); w.err) {
        server_failure.send("server write after the peer's close_write: " + w.err.message());
        return;
      }
      if (error e = s.close_write()) {
        server_failure.send("server close_write: " + e.message());
        return;
      }
      if (auto w = s.write("x"); !w.err) {
        server_failure.send("server write after its own close_write succeeded");
        return;
      }
      server_failure.send("");
    });
    ASSERT_FALSE(p.client.close_write());
    char buf[4];
    auto r = io::read_full(p.client, std::span<char>(buf));
    EXPECT_FALSE(r.err) << r.err;
    EXPECT_EQ(std::string(buf, r.value), "pong");
    char b[1];
    auto eof = p.client.read(b);
    EXPECT_EQ(eof.value, 0u);
    EXPECT_EQ(eof.err, io::eof) << eof.err;
    auto w = p.client.write("x");
    EXPECT_TRUE(w.err);
    EXPECT_EQ(os::errno_of(w.err), EPIPE) << w.err;
    EXPECT_TRUE(w.err.message().starts_with(conn_prefix("write", p.client))) << w.err;
    EXPECT_EQ(server_failure.recv(), std::optional<std::string>("")) << "server side";
  });
}

// Go's TestConnClose: calls on a closed connection fail with err_closed; a second close errors.
TEST_P(NetStreamP, ConnClose) {
  StreamNet sn(GetParam());
  net_run(2, [&] {
    Pair p = sn.pair();
    ASSERT_TRUE(p);
    std::string read_prefix = conn_prefix("read", p.client);
    std::string close_prefix = conn_prefix("close", p.client);
    ASSERT_FALSE(p.client.close());
    char b[1];
    auto r = p.client.read(b);
    EXPECT_EQ(r.value, 0u);
    EXPECT_TRUE(is_closed_error(r.err));
    if (sn.network == "tcp") {
      EXPECT_EQ(r.err.message(), read_prefix + ": " + kClosedText);
    }
    auto w = p.client.write("x");
    EXPECT_EQ(w.value, 0u);
    EXPECT_TRUE(is_closed_error(w.err));
    EXPECT_TRUE(w.err.message().starts_with("write ")) << w.err;
    error again = p.client.close();
    EXPECT_TRUE(is_closed_error(again));
    if (sn.network == "tcp") {
      EXPECT_EQ(again.message(), close_prefix + ": " + kClosedText);
    }
    EXPECT_TRUE(errors::is(p.client.set_deadline(gocxx::time::now() + 1s), net::err_closed));
    EXPECT_TRUE(errors::is(p.client.close_write(), net::err_closed));
    // The peer sees the close as EOF.
    auto peer = p.server.read(b);
    EXPECT_EQ(peer.err, io::eof) << peer.err;
  });
}

// Go's TestCloseUnblocksRead: close wakes a read parked in the poller; it fails with an error
// wrapping err_closed ("use of closed network connection").
TEST_P(NetP, CloseWakesBlockedRead) {
  net_run(GetParam(), [] {
    Pair p = connected();
    ASSERT_TRUE(p);
    std::string prefix = conn_prefix("read", p.client);
    Chan<Result<std::size_t>> done = parked_read(p.client, 16);
    EXPECT_FALSE(p.client.close());
    auto r = recv_within(done);
    ASSERT_TRUE(r) << "close did not wake the read";
    EXPECT_EQ(r->value, 0u);
    EXPECT_TRUE(is_closed_error(r->err));
    EXPECT_EQ(r->err.message(), prefix + ": " + kClosedText);
  });
}

// Close wakes a write parked on a full socket buffer; it reports the bytes written before.
TEST_P(NetP, CloseWakesBlockedWrite) {
  net_run(GetParam(), [] {
    Pair p = connected();
    ASSERT_TRUE(p);
    auto big = std::make_shared<const std::string>(std::size_t{64} << 20, 'w');
    Chan<Result<std::size_t>> done(1);
    net::Conn c = p.client;
    go_until_parked(kIOWait, [c, big, done]() mutable { done.send(c.write(*big)); });
    EXPECT_FALSE(p.client.close());
    auto r = recv_within(done);
    ASSERT_TRUE(r) << "close did not wake the write";
    EXPECT_TRUE(is_closed_error(r->err));
    EXPECT_TRUE(r->err.message().starts_with("write tcp ")) << r->err;
    EXPECT_GT(r->value, 0u);
    EXPECT_LT(r->value, big->size());
  });
}

// Go's TestListenerClose: a parked accept fails with err_closed; accept after close fails;
// closing twice errors.
TEST_P(NetP, ListenerClose) {
  net_run(GetParam(), [] {
    auto [l, err] = net::listen("tcp", "127.0.0.1:0");
    ASSERT_FALSE(err) << err;
    net::Listener ln = l;
    std::string addr = ln.addr().string();
    Chan<Result<net::Conn>> done(1);
    go_until_parked(kIOWait, [ln, done]() mutable { done.send(ln.accept()); });
    ASSERT_FALSE(ln.close());
    auto r = recv_within(done);
    ASSERT_TRUE(r) << "close did not wake the accept";
    EXPECT_FALSE(r->value);
    EXPECT_TRUE(is_closed_error(r->err));
    EXPECT_EQ(r->err.message(), "accept tcp " + addr + ": " + kClosedText);
    auto after = ln.accept();
    EXPECT_FALSE(after.value);
    EXPECT_TRUE(is_closed_error(after.err));
    error again = ln.close();
    EXPECT_TRUE(is_closed_error(again));
    EXPECT_EQ(again.message(), "close tcp " + addr + ": " + kClosedText);
    EXPECT_TRUE(errors::is(ln.set_deadline(gocxx::time::now() + 1s), net::err_closed));
  });
}

// Go's TestListenCloseListen, made stricter: the server end of a connection closes first (its
// port goes to TIME_WAIT), then the listener; the port can be listened on again at once
// (SO_REUSEADDR, as Go sets it) and works.
TEST(NetListener, ListenCloseListenSamePort) {
  net_run(2, [] {
    Pair p = connected();
    ASSERT_TRUE(p);
    std::string addr = p.ln.addr().string();
    ASSERT_FALSE(p.server.close());
    char b[1];
    EXPECT_EQ(p.client.read(b).err, io::eof);
    ASSERT_FALSE(p.client.close());
    ASSERT_FALSE(p.ln.close());
    Pair again = connected("tcp", addr);
    ASSERT_TRUE(again) << "listening again on " << addr;
    EXPECT_EQ(again.ln.addr().string(), addr);
    go(echo, again.server);
    EXPECT_TRUE(round_trip(again.client, "again"));
  });
}

// Go's TestPacketConnClose: a parked read_from fails with err_closed; a second close errors.
TEST_P(NetP, PacketConnClose) {
  net_run(GetParam(), [] {
    auto [pc_, err] = net::listen_packet("udp", "127.0.0.1:0");
    ASSERT_FALSE(err) << err;
    net::PacketConn pc = pc_;
    std::string addr = pc.local_addr().string();
    Chan<net::ReadFromResult> done(1);
    go_until_parked(kIOWait, [pc, done]() mutable {
      char b[16];
      done.send(pc.read_from(b));
    });
    ASSERT_FALSE(pc.close());
    auto r = recv_within(done);
    ASSERT_TRUE(r) << "close did not wake read_from";
    EXPECT_TRUE(is_closed_error(r->err));
    EXPECT_EQ(r->err.message(), "read udp " + addr + ": " + kClosedText);
    EXPECT_FALSE(r->addr);
    EXPECT_TRUE(is_closed_error(pc.close()));
    auto w = pc.write_to("x", pc.local_addr());
    EXPECT_TRUE(errors::is(w.err, net::err_closed)) << w.err;
  });
}

// Go's TestZeroByteRead: an empty buffer reads (0, nil) without waiting.
TEST(NetConn, ZeroByteRead) {
  net_run(2, [] {
    Pair p = connected();
    ASSERT_TRUE(p);
    auto r = p.client.read(std::span<char>());
    EXPECT_EQ(r.value, 0u);
    EXPECT_FALSE(r.err) << r.err;
    auto w = p.client.write("");
    EXPECT_EQ(w.value, 0u);
    EXPECT_FALSE(w.err) << w.err;
  });
}

// Go's (*conn).ok(): methods of a nil Conn/Listener/PacketConn return EINVAL.
TEST(NetConn, NilHandlesReturnEINVAL) {
  net::Conn c;
  char b[1];
  EXPECT_EQ(os::errno_of(c.read(b).err), EINVAL);
  EXPECT_EQ(os::errno_of(c.write("x").err), EINVAL);
  EXPECT_EQ(os::errno_of(c.close()), EINVAL);
  EXPECT_EQ(os::errno_of(c.set_deadline(TimePoint{})), EINVAL);
  EXPECT_FALSE(c.local_addr());
  net::Listener l;
  EXPECT_EQ(os::errno_of(l.accept().err), EINVAL);
  EXPECT_EQ(os::errno_of(l.close()), EINVAL);
  net::PacketConn pc;
  EXPECT_EQ(os::errno_of(pc.read_from(b).err), EINVAL);
}

// Go's reads are serialized, not refused: readers of one connection share its bytes (no
// "netpoll: double wait"), and a writer and a reader proceed together.
TEST_P(NetStressP, ConcurrentReadersShareOneConn) {
  net_run(GetParam(), [] {
    Pair p = connected();
    ASSERT_TRUE(p);
    const int kReaders = 4;
    const int kBytes = scaled(20000);
    std::atomic<int> total{0};
    gocxx::sync::WaitGroup wg;
    wg.add(kReaders);
    for (int i = 0; i < kReaders; ++i) {
      net::Conn c = p.client;
      go([c, &total, &wg]() mutable {
        char b[3];
        for (;;) {
          auto [n, err] = c.read(b);
          total.fetch_add(static_cast<int>(n));
          if (err) {
            EXPECT_EQ(err, io::eof) << err;
            break;
          }
        }
        wg.done();
      });
    }
    std::string chunk(7, 'r');
    int sent = 0;
    while (sent < kBytes) {
      int n = std::min<int>(7, kBytes - sent);
      ASSERT_FALSE(p.server.write(std::string_view(chunk.data(), n)).err);
      sent += n;
      if (sent % 700 == 0) gocxx::yield();
    }
    ASSERT_FALSE(p.server.close_write());
    wg.wait();
    EXPECT_EQ(total.load(), kBytes);
  });
}

// ---- deadlines ------------------------------------------------------------------------------

// A deadline in the past fails reads at once, even with data waiting (Go checks the deadline
// before the call), and keeps failing them until it is changed; removing it (TimePoint{})
// lets the data through. The write direction is not affected.
TEST_P(NetP, ReadDeadlineInThePast) {
  net_run(GetParam(), [] {
    Pair p = connected();
    ASSERT_TRUE(p);
    ASSERT_FALSE(p.server.write("data").err);
    std::string prefix = conn_prefix("read", p.client);
    for (TimePoint past : {gocxx::time::now() - 1s, TimePoint(1ns)}) {
      ASSERT_FALSE(p.client.set_read_deadline(past));
      char b[4];
      for (int i = 0; i < 3; ++i) {
        auto r = p.client.read(b);
        EXPECT_EQ(r.value, 0u);
        EXPECT_TRUE(is_deadline_error(r.err));
        EXPECT_EQ(r.err.message(), prefix + ": i/o timeout");
      }
    }
    EXPECT_FALSE(p.client.write("w").err);
    ASSERT_FALSE(p.client.set_read_deadline(TimePoint{}));
    char b[4];
    auto r = io::read_full(p.client, std::span<char>(b));
    EXPECT_FALSE(r.err) << r.err;
    EXPECT_EQ(std::string(b, 4), "data");
  });
}

// Go's TestReadTimeout / TestReadTimeoutMustNotReturn: a future deadline fires while the read
// waits; it stays in force for later reads; a new future deadline fires again; and after it
// is removed a read waits past the old time and gets the data.
TEST_P(NetP, ReadDeadlineFiresAndStays) {
  net_run(GetParam(), [] {
    Pair p = connected();
    ASSERT_TRUE(p);
    char b[8];
    for (int round = 0; round < 2; ++round) {
      ASSERT_FALSE(p.client.set_read_deadline(gocxx::time::now() + 50ms));
      auto r = p.client.read(b);
      EXPECT_EQ(r.value, 0u);
      EXPECT_TRUE(is_deadline_error(r.err)) << "round " << round;
      auto again = p.client.read(b);  // still expired: fails without waiting for anything
      EXPECT_TRUE(is_deadline_error(again.err)) << "round " << round;
    }
    ASSERT_FALSE(p.client.set_read_deadline(TimePoint{}));
    Chan<Result<std::size_t>> done = parked_read(p.client, 8);
    gocxx::time::sleep(150ms);  // past where a stale 50 ms timer would have fired
    EXPECT_EQ(done.len(), 0u) << "the read returned without a deadline or data";
    ASSERT_FALSE(p.server.write("late").err);
    auto r = recv_within(done);
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->err) << r->err;
    EXPECT_EQ(r->value, 4u);
  });
}

// A deadline moved while a read waits. `move` gets the connection and the old deadline and
// moves it later or removes it. Data arrives after the old deadline: the read must get it.
// Conclusive only if the move happened before the old deadline; otherwise retried with a
// larger margin (a slow machine), so the outcome never depends on timing.
template <class Move>
void read_survives_moved_deadline(int procs, Move move) {
  net_run(procs, [&] {
    for (auto margin : {300ms, 1000ms, 3000ms, 10000ms}) {
      Pair p = connected();
      ASSERT_TRUE(p);
      TimePoint old = gocxx::time::now() + margin;
      ASSERT_FALSE(p.client.set_read_deadline(old));
      Chan<Result<std::size_t>> done = parked_read(p.client, 8);
      ASSERT_FALSE(move(p.client));
      if (gocxx::time::now() >= old) {  // inconclusive: the old deadline may have fired first
        (void)p.client.close();
        (void)done.recv();
        continue;
      }
      gocxx::time::sleep(old - gocxx::time::now() + 200ms);
      EXPECT_EQ(done.len(), 0u) << "the read returned at the old deadline";
      ASSERT_FALSE(p.server.write("x").err);
      auto r = recv_within(done);
      ASSERT_TRUE(r);
      EXPECT_FALSE(r->err) << r->err;
      EXPECT_EQ(r->value, 1u);
      return;
    }
    ADD_FAILURE() << "never moved the deadline before it passed";
  });
}

TEST_P(NetP, ReadDeadlineExtendedWhileWaiting) {
  read_survives_moved_deadline(GetParam(), [](net::Conn& c) {
    return c.set_read_deadline(gocxx::time::now() + 1h);
  });
}

TEST_P(NetP, ReadDeadlineRemovedWhileWaiting) {
  read_survives_moved_deadline(GetParam(), [](net::Conn& c) { return c.set_read_deadline(TimePoint{}); });
}

TEST_P(NetP, DeadlineRemovedWhileWaitingViaSetDeadline) {
  read_survives_moved_deadline(GetParam(), [](net::Conn& c) { return c.set_deadline(TimePoint{}); });
}

// Go's TestReadTimeoutUnblocksRead: a deadline shortened (to the near future, or the past)
// while a read waits makes the read fail with the time-out.
TEST_P(NetP, ReadDeadlineShortenedWhileWaiting) {
  net_run(GetParam(), [] {
    Pair p = connected();
    ASSERT_TRUE(p);
    for (bool past : {false, true}) {
      ASSERT_FALSE(p.client.set_read_deadline(gocxx::time::now() + 1h));
      Chan<Result<std::size_t>> done = parked_read(p.client, 8);
      ASSERT_FALSE(p.client.set_read_deadline(past ? gocxx::time::now() - 1s : gocxx::time::now() + 20ms));
      auto r = recv_within(done);
      ASSERT_TRUE(r) << "the shortened deadline did not wake the read (past=" << past << ")";
      EXPECT_EQ(r->value, 0u);
      EXPECT_TRUE(is_deadline_error(r->err)) << "past=" << past;
    }
  });
}

// Go's TestWriteTimeout: a write deadline fires once the socket buffers are full (the peer
// does not read). The failed write reports the bytes it wrote; the deadline stays in force;
// reads are not affected; with the deadline removed, writing goes on, and the peer receives
// exactly the bytes reported, then the rest.
TEST_P(NetP, WriteDeadlineFiresOnFullBuffer) {
  net_run(GetParam(), [] {
    Pair p = connected();
    ASSERT_TRUE(p);
    std::string prefix = conn_prefix("write", p.client);
    ASSERT_FALSE(p.client.set_write_deadline(gocxx::time::now() + 100ms));
    std::string chunk(std::size_t{1} << 20, 'w');
    std::size_t total = 0;
    error err;
    for (int i = 0; i < 4096 && !err; ++i) {
      auto r = p.client.write(chunk);
      total += r.value;
      err = r.err;
      if (r.err) EXPECT_LT(r.value, chunk.size());
    }
    ASSERT_TRUE(is_deadline_error(err));
    EXPECT_EQ(err.message(), prefix + ": i/o timeout");
    EXPECT_GT(total, 0u);
    auto again = p.client.write("x");
    EXPECT_EQ(again.value, 0u);
    EXPECT_TRUE(is_deadline_error(again.err));
    ASSERT_FALSE(p.server.write("y").err);
    char b[1];
    auto r = p.client.read(b);
    EXPECT_FALSE(r.err) << r.err;
    ASSERT_FALSE(p.client.set_write_deadline(TimePoint{}));
    // The peer drains: total bytes of 'w', then "tail".
    Chan<std::string> verdict(1);
    net::Conn s = p.server;
    go([s, total, verdict]() mutable {
      std::vector<char> buf(std::size_t{1} << 20);
      std::size_t left = total;
      while (left > 0) {
        auto [n, err] = s.read(std::span<char>(buf.data(), std::min(left, buf.size())));
        for (std::size_t i = 0; i < n; ++i) {
          if (buf[i] != 'w') {
            verdict.send("unexpected byte");
            return;
          }
        }
        left -= n;
        if (err) {
          verdict.send("drain: " + err.message());
          return;
        }
      }
      char tail[4];
      auto r = io::read_full(s, std::span<char>(tail));
      verdict.send(r.err ? "tail: " + r.err.message() : std::string(tail, 4));
    });
    EXPECT_FALSE(p.client.write("tail").err);
    EXPECT_EQ(recv_within(verdict), std::optional<std::string>("tail"));
  });
}

// A past write deadline fails a write at once (nothing written); a write parked on a full
// buffer fails when its deadline is shortened.
TEST_P(NetP, WriteDeadlinePastAndShortened) {
  net_run(GetParam(), [] {
    Pair p = connected();
    ASSERT_TRUE(p);
    ASSERT_FALSE(p.client.set_write_deadline(gocxx::time::now() - 1s));
    auto w = p.client.write("x");
    EXPECT_EQ(w.value, 0u);
    EXPECT_TRUE(is_deadline_error(w.err));
    ASSERT_FALSE(p.client.set_write_deadline(gocxx::time::now() + 1h));
    auto big = std::make_shared<const std::string>(std::size_t{64} << 20, 'w');
    Chan<Result<std::size_t>> done(1);
    net::Conn c = p.client;
    go_until_parked(kIOWait, [c, big, done]() mutable { done.send(c.write(*big)); });
    ASSERT_FALSE(p.client.set_write_deadline(gocxx::time::now() + 20ms));
    auto r = recv_within(done);
    ASSERT_TRUE(r) << "the shortened deadline did not wake the write";
    EXPECT_TRUE(is_deadline_error(r->err));
    EXPECT_GT(r->value, 0u);
    EXPECT_LT(r->value, big->size());
  });
}

// set_deadline covers both directions; set_read_deadline / set_write_deadline one each.
TEST_P(NetP, DeadlineDirections) {
  net_run(GetParam(), [] {
    Pair p = connected();
    ASSERT_TRUE(p);
    ASSERT_FALSE(p.client.set_deadline(gocxx::time::now() - 1s));
    char b[1];
    EXPECT_TRUE(is_deadline_error(p.client.read(b).err));
    EXPECT_TRUE(is_deadline_error(p.client.write("x").err));
    ASSERT_FALSE(p.client.set_read_deadline(TimePoint{}));
    ASSERT_FALSE(p.server.write("y").err);
    auto r = p.client.read(b);
    EXPECT_FALSE(r.err) << r.err;
    EXPECT_TRUE(is_deadline_error(p.client.write("x").err));  // the write deadline is still past
    ASSERT_FALSE(p.client.set_write_deadline(TimePoint{}));
    EXPECT_FALSE(p.client.write("x").err);
    ASSERT_FALSE(p.client.set_write_deadline(gocxx::time::now() - 1s));
    ASSERT_FALSE(p.server.write("z").err);
    r = p.client.read(b);  // a write deadline does not touch reads
    EXPECT_FALSE(r.err) << r.err;
  });
}

// Go's TestAcceptTimeout: an accept deadline fires; it stays in force; a past deadline fails
// accept even with a connection pending; removed, accept returns that connection. A parked
// accept fails when its deadline is shortened.
TEST_P(NetP, AcceptDeadline) {
  net_run(GetParam(), [] {
    auto [l, err] = net::listen("tcp", "127.0.0.1:0");
    ASSERT_FALSE(err) << err;
    net::Listener ln = l;
    std::string addr = ln.addr().string();
    ASSERT_FALSE(ln.set_deadline(gocxx::time::now() + 50ms));
    for (int i = 0; i < 2; ++i) {
      auto r = ln.accept();
      EXPECT_FALSE(r.value);
      EXPECT_TRUE(is_deadline_error(r.err));
      EXPECT_EQ(r.err.message(), "accept tcp " + addr + ": i/o timeout");
    }
    auto [client, dial_err] = net::dial("tcp", addr);
    ASSERT_FALSE(dial_err) << dial_err;
    ASSERT_FALSE(ln.set_deadline(gocxx::time::now() - 1s));
    EXPECT_TRUE(is_deadline_error(ln.accept().err));
    ASSERT_FALSE(ln.set_deadline(TimePoint{}));
    auto r = ln.accept();
    ASSERT_FALSE(r.err) << r.err;
    EXPECT_EQ(r.value.remote_addr(), client.local_addr());

    ASSERT_FALSE(ln.set_deadline(gocxx::time::now() + 1h));
    Chan<Result<net::Conn>> done(1);
    go_until_parked(kIOWait, [ln, done]() mutable { done.send(ln.accept()); });
    ASSERT_FALSE(ln.set_deadline(gocxx::time::now() + 20ms));
    auto shortened = recv_within(done);
    ASSERT_TRUE(shortened) << "the shortened deadline did not wake accept";
    EXPECT_TRUE(is_deadline_error(shortened->err));
  });
}

// Go's TestReadFromTimeout / TestWriteToTimeout on UDP.
TEST_P(NetP, PacketConnDeadlines) {
  net_run(GetParam(), [] {
    auto [pc_, err] = net::listen_packet("udp", "127.0.0.1:0");
    ASSERT_FALSE(err) << err;
    net::PacketConn pc = pc_;
    std::string addr = pc.local_addr().string();
    ASSERT_FALSE(pc.set_read_deadline(gocxx::time::now() + 50ms));
    char b[16];
    auto r = pc.read_from(b);
    EXPECT_TRUE(is_deadline_error(r.err));
    EXPECT_EQ(r.err.message(), "read udp " + addr + ": i/o timeout");
    ASSERT_FALSE(pc.set_write_deadline(gocxx::time::now() - 1s));
    auto w = pc.write_to("x", pc.local_addr());
    EXPECT_TRUE(is_deadline_error(w.err));
    ASSERT_FALSE(pc.set_deadline(TimePoint{}));
    ASSERT_FALSE(pc.write_to("self", pc.local_addr()).err);
    r = pc.read_from(b);
    EXPECT_FALSE(r.err) << r.err;
    EXPECT_EQ(std::string(b, r.n), "self");
  });
}

// Go's TestConcurrentSetDeadline (issue 35367): many goroutines move the deadlines of many
// connections at once (steadily earlier, re-sorting the timers). Afterwards every deadline is
// still hours away: reads with data succeed.
TEST_P(NetStressP, ConcurrentSetDeadline) {
  net_run(GetParam(), [] {
    auto [l, err] = net::listen("tcp", "127.0.0.1:0");
    ASSERT_FALSE(err) << err;
    const int kGoroutines = 8, kConns = 10, kTries = scaled(100);
    std::vector<net::Conn> clients, servers;
    for (int i = 0; i < kConns; ++i) {
      auto [c, derr] = net::dial("tcp", l.addr().string());
      ASSERT_FALSE(derr) << derr;
      auto [s, aerr] = l.accept();
      ASSERT_FALSE(aerr) << aerr;
      clients.push_back(c);
      servers.push_back(s);
    }
    TimePoint now = gocxx::time::now();
    std::atomic<int> failures{0};
    gocxx::sync::WaitGroup wg;
    wg.add(kGoroutines);
    for (int i = 0; i < kGoroutines; ++i) {
      go([&, i] {
        for (int j = kTries; j > 0; --j) {
          for (int k = 0; k < kConns; ++k) {
            if (clients[k].set_read_deadline(now + 2h + std::chrono::seconds(i * j * k))) ++failures;
            if (clients[k].set_write_deadline(now + 1h + std::chrono::seconds(i * j * k))) ++failures;
          }
        }
        wg.done();
      });
    }
    wg.wait();
    EXPECT_EQ(failures.load(), 0);
    for (int k = 0; k < kConns; ++k) {
      ASSERT_FALSE(servers[k].write("z").err);
      char b[1];
      auto r = clients[k].read(b);
      EXPECT_FALSE(r.err) << "conn " << k << ": " << r.err;
      EXPECT_FALSE(clients[k].write("q").err);
    }
  });
}

// Go's TestReadWriteDeadlineRace: deadlines moved every few microseconds while a reader and a
// writer run. Every call ends in success or a time-out, nothing else.
TEST_P(NetStressP, ReadWriteDeadlineRace) {
  net_run(GetParam(), [] {
    Pair p = connected();
    ASSERT_TRUE(p);
    const int kN = scaled(1000);
    std::atomic<int> bad{0};
    gocxx::sync::WaitGroup wg;
    wg.add(3);
    net::Conn c = p.client;
    go([&, c]() mutable {
      gocxx::time::Ticker tick(2us);
      for (int i = 0; i < kN; ++i) {
        if (c.set_read_deadline(gocxx::time::now() + 2us)) ++bad;
        if (c.set_write_deadline(gocxx::time::now() + 2us)) ++bad;
        (void)tick.c().recv();
      }
      tick.stop();
      wg.done();
    });
    go([&, c]() mutable {
      char b[1];
      for (int i = 0; i < kN; ++i) {
        auto r = c.read(b);
        if (r.err && !is_deadline_error(r.err)) {
          ADD_FAILURE() << r.err;
          ++bad;
        }
      }
      wg.done();
    });
    go([&, c]() mutable {
      char b[1] = {'x'};
      for (int i = 0; i < kN; ++i) {
        auto r = c.write(std::string_view(b, 1));
        if (r.err && !is_deadline_error(r.err)) {
          ADD_FAILURE() << r.err;
          ++bad;
        }
      }
      wg.done();
    });
    wg.wait();
    EXPECT_EQ(bad.load(), 0);
  });
}

// A deadline set to the past at the very moment a goroutine starts to wait must wake it (no
// lost wake-up between "publish the waiter" and "check the deadline"). Many iterations, with
// a varying head start for the reader; each is bounded by its own guard, which reports the
// iteration that lost its wake-up.
TEST_P(NetStressP, PastDeadlineRacingWithPark) {
  net_run(GetParam(), [] {
    Pair p = connected();
    ASSERT_TRUE(p);
    const int kN = scaled(3000);
    for (int i = 0; i < kN; ++i) {
      ASSERT_FALSE(p.client.set_read_deadline(TimePoint{}));
      Chan<Result<std::size_t>> done(1);
      net::Conn c = p.client;
      go([c, done]() mutable {
        char b[1];
        done.send(c.read(b));
      });
      volatile int sink = 0;
      for (int spin = 0; spin < (i % 64) * 50; ++spin) sink = sink + 1;
      if (i % 3 == 0) gocxx::yield();
      ASSERT_FALSE(p.client.set_read_deadline(gocxx::time::now() - 1s));
      auto r = recv_within(done, 30s);
      if (!r) {
        ADD_FAILURE() << "iteration " << i << ": the read never saw the past deadline (lost wake-up)";
        (void)p.client.close();
        (void)done.recv();
        return;
      }
      ASSERT_TRUE(is_deadline_error(r->err)) << "iteration " << i;
    }
  });
}

// ---- dialing --------------------------------------------------------------------------------

// Go's TestDialTimeout and TestDialCancel, on a listener whose accept queue is full (the
// connect stays in progress): a future deadline fires; a past one fails at once; cancelling the
// context mid-connect fails the dial with an error that wraps context::canceled; a context
// deadline is a time-out; no socket is left open.
TEST_P(NetP, DialTimeoutAndCancel) {
  net_run(GetParam(), [] {
    FullBacklogListener full;
    ASSERT_TRUE(full.fill());
    const std::string& addr = full.address();
    auto before = net::stats();

    auto [c1, err1] = net::dial_timeout("tcp", addr, 200ms);
    EXPECT_FALSE(c1);
    EXPECT_TRUE(is_deadline_error(err1));
    EXPECT_EQ(err1.message(), "dial tcp " + addr + ": i/o timeout");
    const auto* op = errors::as<net::OpError>(err1);
    ASSERT_NE(op, nullptr);
    EXPECT_EQ(op->op, "dial");
    EXPECT_EQ(op->net, "tcp");
    EXPECT_EQ(op->addr.string(), addr);

    auto [c2, err2] = net::dial_timeout("tcp", addr, -1s);
    EXPECT_FALSE(c2);
    EXPECT_TRUE(is_deadline_error(err2));

    // Cancelled while the connect is in progress (the dialing goroutine waits on the poller).
    {
      auto [ctx_, cancel] = ctxs::with_cancel(ctxs::background());
      ctxs::Context ctx = ctx_;
      Chan<Result<net::Conn>> done(1);
      std::string a = addr;
      go_until_parked(kIOWait, [ctx, a, done]() mutable { done.send(net::dial_context(ctx, "tcp", a)); });
      cancel();
      auto r = recv_within(done);
      ASSERT_TRUE(r) << "cancel did not end the dial";
      EXPECT_FALSE(r->value);
      EXPECT_TRUE(errors::is(r->err, ctxs::canceled)) << r->err;
      EXPECT_FALSE(net::is_timeout(r->err)) << r->err;
      EXPECT_EQ(r->err.message(), "dial tcp " + addr + ": operation was canceled");
    }
    // A context deadline that passes mid-connect.
    {
      auto [ctx, cancel] = ctxs::with_timeout(ctxs::background(), 100ms);
      auto [c, err] = net::dial_context(ctx, "tcp", addr);
      EXPECT_FALSE(c);
      EXPECT_TRUE(net::is_timeout(err)) << err;
      EXPECT_TRUE(errors::is(err, os::err_deadline_exceeded)) << err;
      EXPECT_FALSE(errors::is(err, ctxs::canceled)) << err;
      EXPECT_TRUE(err.message().starts_with("dial tcp ")) << err;
      cancel();
    }
    auto after = net::stats();
    EXPECT_EQ(after.sockets_opened - before.sockets_opened, after.sockets_closed - before.sockets_closed);
    EXPECT_EQ(after.open_fds, before.open_fds);
  });
}

// A dial whose context is already done, or whose deadline has passed, fails at once even to a
// listener that would accept, without touching the network: Go's dialSerial checks ctx.Done()
// before each address, and a past deadline makes the dial's context done. Checked per case:
// the error, no socket made, and nothing reaching the listener.
TEST_P(NetP, DialAlreadyDoneFailsWithoutConnecting) {
  net_run(GetParam(), [] {
    auto [l, err] = net::listen("tcp", "127.0.0.1:0");
    ASSERT_FALSE(err) << err;
    net::Listener ln = l;
    std::string addr = ln.addr().string();
    auto check_untouched = [&](const char* what, const net::Stats& before) {
      auto after = net::stats();
      EXPECT_EQ(after.sockets_opened, before.sockets_opened) << what << ": a socket was made";
      EXPECT_EQ(after.sockets_closed, before.sockets_closed) << what;
      EXPECT_EQ(after.open_fds, before.open_fds) << what;
      ASSERT_FALSE(ln.set_deadline(gocxx::time::now() + 200ms));
      auto r = ln.accept();
      EXPECT_TRUE(is_deadline_error(r.err))
          << what << ": a connection reached the listener from " << r.value.remote_addr();
    };
    {
      auto [ctx, cancel] = ctxs::with_cancel(ctxs::background());
      cancel();
      auto before = net::stats();
      auto [c, derr] = net::dial_context(ctx, "tcp", addr);
      EXPECT_FALSE(c);
      EXPECT_TRUE(errors::is(derr, ctxs::canceled)) << derr;
      EXPECT_TRUE(derr.message().starts_with("dial tcp")) << derr;
      EXPECT_TRUE(derr.message().ends_with(": operation was canceled")) << derr;
      check_untouched("cancelled context", before);
    }
    {
      auto [ctx, cancel] = ctxs::with_deadline(ctxs::background(), gocxx::time::now() - 1s);
      auto before = net::stats();
      auto [c, derr] = net::dial_context(ctx, "tcp", addr);
      EXPECT_FALSE(c);
      EXPECT_TRUE(net::is_timeout(derr)) << derr;
      EXPECT_TRUE(errors::is(derr, os::err_deadline_exceeded)) << derr;
      check_untouched("context deadline in the past", before);
    }
    {
      auto before = net::stats();
      auto [c, derr] = net::dial_timeout("tcp", addr, -1s);
      EXPECT_FALSE(c);
      EXPECT_TRUE(is_deadline_error(derr));
      EXPECT_EQ(derr.message(), "dial tcp " + addr + ": i/o timeout");
      check_untouched("dial_timeout(-1s)", before);
    }
  });
}

// Go's DialTimeout with a zero timeout is a dial without a time-out (Dialer.Timeout: "The
// default is no timeout"), so it connects like dial().
TEST(NetDial, DialTimeoutZeroMeansNoTimeout) {
  net_run(2, [] {
    auto [l, err] = net::listen("tcp", "127.0.0.1:0");
    ASSERT_FALSE(err) << err;
    auto [c, derr] = net::dial_timeout("tcp", l.addr().string(), 0s);
    EXPECT_FALSE(derr) << derr;
    EXPECT_TRUE(c);
  });
}

// Go's TestDialLocal-like error texts: a refused dial, a missing Unix socket, a port in use.
TEST_P(NetP, DialAndListenErrors) {
  net_run(GetParam(), [] {
    std::string addr = closed_port_address();
    auto [c, err] = net::dial("tcp", addr);
    EXPECT_FALSE(c);
    EXPECT_EQ(err.message(), "dial tcp " + addr + ": connect: connection refused");
    const auto* en = errors::as<os::Errno>(err);
    ASSERT_NE(en, nullptr) << err;
    EXPECT_EQ(en->code, ECONNREFUSED);
    EXPECT_FALSE(en->timeout());
    const auto* sc = errors::as<os::SyscallError>(err);
    ASSERT_NE(sc, nullptr);
    EXPECT_EQ(sc->syscall, "connect");
    const auto* op = errors::as<net::OpError>(err);
    ASSERT_NE(op, nullptr);
    EXPECT_EQ(op->op, "dial");
    EXPECT_EQ(op->net, "tcp");
    EXPECT_FALSE(op->source);
    EXPECT_EQ(op->addr.string(), addr);
    EXPECT_FALSE(net::is_timeout(err));

    TempDir dir;
    std::string missing = dir.file("missing.sock");
    auto [u, uerr] = net::dial("unix", missing);
    EXPECT_FALSE(u);
    EXPECT_EQ(uerr.message(), "dial unix " + missing + ": connect: no such file or directory");
    EXPECT_EQ(os::errno_of(uerr), ENOENT);

    auto [l, lerr] = net::listen("tcp", "127.0.0.1:0");
    ASSERT_FALSE(lerr) << lerr;
    std::string used = l.addr().string();
    auto [l2, used_err] = net::listen("tcp", used);
    EXPECT_FALSE(l2);
    EXPECT_EQ(used_err.message(), "listen tcp " + used + ": bind: address already in use");
    EXPECT_EQ(os::errno_of(used_err), EADDRINUSE);
  });
}

// ---- errors from the peer -----------------------------------------------------------------

// Go's TestNotTemporaryRead-like: a peer that closes with linger 0 resets the connection; a
// read parked on it fails with ECONNRESET ("read: connection reset by peer").
TEST_P(NetP, ReadFromResetConnection) {
  net_run(GetParam(), [] {
    Pair p = connected();
    ASSERT_TRUE(p);
    std::string prefix = conn_prefix("read", p.server);
    ASSERT_FALSE(p.client.set_linger(0));
    Chan<Result<std::size_t>> done(1);
    net::Conn s = p.server;
    go_until_parked(kIOWait, [s, done]() mutable {
      char b[8];
      done.send(s.read(b));
    });
    ASSERT_FALSE(p.client.close());
    auto r = recv_within(done);
    ASSERT_TRUE(r) << "the reset did not wake the read";
    EXPECT_EQ(r->value, 0u);
    EXPECT_EQ(os::errno_of(r->err), ECONNRESET) << r->err;
    EXPECT_EQ(r->err.message(), prefix + ": read: connection reset by peer");
    const auto* en = errors::as<os::Errno>(r->err);
    ASSERT_NE(en, nullptr);
    EXPECT_TRUE(en->temporary());
    EXPECT_FALSE(net::is_timeout(r->err));
    EXPECT_FALSE(errors::is(r->err, net::err_closed));
  });
}

// Writing to a peer that has closed eventually fails with EPIPE or ECONNRESET, and the process
// is not killed by SIGPIPE (its default action is restored for the test).
TEST(NetErrors, WriteToClosedPeerFailsWithoutSIGPIPE) {
  struct sigaction dfl {}, old {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  ASSERT_EQ(::sigaction(SIGPIPE, &dfl, &old), 0);
  net_run(2, [] {
    Pair p = connected();
    ASSERT_TRUE(p);
    std::string prefix = conn_prefix("write", p.client);
    ASSERT_FALSE(p.server.close());
    std::string chunk(4096, 'p');
    error err;
    for (int i = 0; i < 20000 && !err; ++i) {
      err = p.client.write(chunk).err;
      if (!err) gocxx::time::sleep(1ms);
    }
    ASSERT_TRUE(err) << "writes to a closed peer never failed";
    int code = os::errno_of(err);
    EXPECT_TRUE(code == EPIPE || code == ECONNRESET) << err;
    EXPECT_TRUE(err.message() == prefix + ": write: broken pipe" ||
                err.message() == prefix + ": write: connection reset by peer")
        << err;
    auto again = p.client.write("x");
    EXPECT_TRUE(again.err);
    EXPECT_TRUE(os::errno_of(again.err) == EPIPE || os::errno_of(again.err) == ECONNRESET) << again.err;
  });
  ::sigaction(SIGPIPE, &old, nullptr);
}

// ---- allocations ----------------------------------------------------------------------------

// Go's TestTCPReadWriteAllocs. Measured: every operator new in the whole process (all threads)
// while a loop of 1000 rounds runs, after a warm-up. First loop: one goroutine writes on one
// end and read_full's on the other. Second loop (Go's second half): a writer goroutine, woken
// through a channel, writes while the measuring goroutine parks in read_full on the poller, so
// the park / netpoll / ready path is measured too. A steady-state allocation would show in
// every loop; the runtime starting a thread (an M, kept afterwards) on demand is a one-time
// cost that may fall into a loop with 2 Ps (Go's AllocsPerRun runs with GOMAXPROCS(1)), so a
// loop is measured up to 5 times and one of them must allocate nothing.
template <class Round>
void expect_no_allocs(Round round, const char* what) {
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(round()) << what << ": warm-up round " << i;
  long allocs = 0;
  std::string stacks;
  for (int attempt = 0; attempt < 5; ++attempt) {
    bool ok = true;
    start_counting_allocs();
    for (int i = 0; i < 1000; ++i) ok = round() && ok;
    allocs = stop_counting_allocs();
    ASSERT_TRUE(ok) << what;
    if (allocs == 0) return;
    stacks = counted_alloc_stacks();
  }
  ADD_FAILURE() << what << ": " << allocs << " allocations in 1000 rounds, in each of 5 tries\n"
                << stacks;
}

TEST_P(NetP, TCPReadWriteAllocatesNothing) {
  net_run(GetParam(), [] {
    Pair p = connected();
    ASSERT_TRUE(p);
    char buf[128] = {};
    expect_no_allocs(
        [&] {
          auto w = p.server.write(std::string_view(buf, sizeof buf));
          auto r = io::read_full(p.client, std::span<char>(buf));
          return !w.err && !r.err && r.value == sizeof buf;
        },
        "write + read_full");

    Chan<bool> start;
    Chan<bool> wrote(1);
    net::Conn s = p.server;
    go([s, start, wrote]() mutable {
      char out[128] = {};
      for (;;) {
        auto v = start.recv();
        if (!v || !*v) break;
        wrote.send(!s.write(std::string_view(out, sizeof out)).err);
      }
    });
    expect_no_allocs(
        [&] {
          start.send(true);
          auto r = io::read_full(p.client, std::span<char>(buf));
          auto w = wrote.recv();
          return !r.err && w && *w;
        },
        "read_full while a writer goroutine writes");
    start.close();
  });
}

// ---- UDP ------------------------------------------------------------------------------------

void udp_echo(net::PacketConn pc) {
  char buf[2048];
  for (;;) {
    auto r = pc.read_from(buf);
    if (r.err) break;
    if (pc.write_to(std::string_view(buf, r.n), r.addr).err) break;
  }
}

// Go's TestUDPServer / TestWriteToUDP / TestUDPConnLocalAndRemoteNames / TestUDPZeroBytePayload:
// read_from/write_to echo with the sender's address; a dialed UDP conn's read/write; empty
// datagrams.
TEST_P(NetP, UDPServer) {
  net_run(GetParam(), [] {
    auto [srv, err] = net::listen_packet("udp", "127.0.0.1:0");
    ASSERT_FALSE(err) << err;
    net::PacketConn server = srv;
    EXPECT_EQ(server.local_addr().network(), "udp");
    EXPECT_EQ(server.local_addr().ip(), "127.0.0.1");
    go(udp_echo, server);

    auto [cli, cerr] = net::listen_packet("udp", "127.0.0.1:0");
    ASSERT_FALSE(cerr) << cerr;
    ASSERT_FALSE(cli.set_read_deadline(gocxx::time::now() + 60s));  // a lost datagram fails, not hangs
    for (int i = 0; i < 20; ++i) {
      std::string msg = "udp message " + std::to_string(i);
      auto w = cli.write_to(msg, server.local_addr());
      ASSERT_FALSE(w.err) << w.err;
      EXPECT_EQ(w.value, msg.size());
      char buf[2048];
      auto r = cli.read_from(buf);
      ASSERT_FALSE(r.err) << r.err;
      EXPECT_EQ(std::string(buf, r.n), msg);
      EXPECT_EQ(r.addr, server.local_addr());
    }
    // A short buffer truncates the datagram.
    ASSERT_FALSE(cli.write_to("0123456789", server.local_addr()).err);
    char small[4];
    auto r = cli.read_from(small);
    ASSERT_FALSE(r.err) << r.err;
    EXPECT_EQ(std::string(small, r.n), "0123");

    auto [conn, derr] = net::dial("udp", server.local_addr().string());
    ASSERT_FALSE(derr) << derr;
    ASSERT_FALSE(conn.set_read_deadline(gocxx::time::now() + 60s));
    EXPECT_EQ(conn.remote_addr(), server.local_addr());
    EXPECT_EQ(conn.local_addr().network(), "udp");
    EXPECT_NE(conn.local_addr().port(), 0);
    EXPECT_TRUE(round_trip(conn, "dialed udp"));
    // Empty datagrams go through as such.
    auto w0 = conn.write("");
    EXPECT_FALSE(w0.err) << w0.err;
    EXPECT_EQ(w0.value, 0u);
    char b[16];
    auto r0 = conn.read(b);
    EXPECT_FALSE(r0.err) << r0.err;
    EXPECT_EQ(r0.value, 0u);
    EXPECT_TRUE(round_trip(conn, "after empty"));

    // write_to without an address.
    auto wn = cli.write_to("x", net::Addr{});
    EXPECT_TRUE(wn.err);
    EXPECT_EQ(wn.err.message(), "write udp " + cli.local_addr().string() + ": missing address");
    EXPECT_FALSE(server.close());
  });
}

// ---- Unix domain sockets --------------------------------------------------------------------

// Go's TestUnixConnLocalAndRemoteNames-like: a Unix stream server with concurrent clients.
TEST_P(NetP, UnixStreamEcho) {
  TempDir dir;
  std::string path = dir.file("echo.sock");
  net_run(GetParam(), [&] {
    auto [l, err] = net::listen("unix", path);
    ASSERT_FALSE(err) << err;
    net::Listener ln = l;
    EXPECT_EQ(ln.addr().network(), "unix");
    EXPECT_EQ(ln.addr().string(), path);
    const int kClients = 4;
    go([ln, path]() mutable {
      for (;;) {
        auto [c, err] = ln.accept();
        if (err) {
          EXPECT_TRUE(is_closed_error(err));
          return;
        }
        EXPECT_EQ(c.local_addr().string(), path);
        go(echo, c);
      }
    });
    gocxx::sync::WaitGroup wg;
    wg.add(kClients);
    for (int i = 0; i < kClients; ++i) {
      go([&, i] {
        auto [c, err] = net::dial("unix", path);
        if (err) {
          ADD_FAILURE() << err;
        } else {
          EXPECT_EQ(c.remote_addr().string(), path);
          for (int j = 0; j < 20; ++j) {
            EXPECT_TRUE(round_trip(c, "unix " + std::to_string(i) + "/" + std::to_string(j)));
          }
          (void)c.close();
        }
        wg.done();
      });
    }
    wg.wait();
    EXPECT_FALSE(ln.close());
  });
}

// Go's TestUnixUnlink: closing a Unix listener removes its socket file (also when the last
// handle goes away without close()); the path can be listened on again.
TEST(NetUnix, ListenerRemovesSocketFile) {
  TempDir dir;
  std::string path = dir.file("unlink.sock");
  net_run(2, [&] {
    struct stat st {};
    {
      auto [ln, err] = net::listen("unix", path);
      ASSERT_FALSE(err) << err;
      ASSERT_EQ(::stat(path.c_str(), &st), 0);
      EXPECT_TRUE(S_ISSOCK(st.st_mode));
      ASSERT_FALSE(ln.close());
      EXPECT_NE(::stat(path.c_str(), &st), 0);
      EXPECT_EQ(errno, ENOENT);
    }
    {
      auto [ln, err] = net::listen("unix", path);
      ASSERT_FALSE(err) << "listening again: " << err;
      ASSERT_EQ(::stat(path.c_str(), &st), 0);
    }  // the last handle: closed by the destructor
    EXPECT_NE(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(errno, ENOENT);
  });
}

// Go's TestUnixgramWrite / TestReadUnixgramWithUnnamedSocket: datagrams between two named
// unixgram sockets carry the sender's path; a dialed (unnamed) sender reads as a nil address.
TEST_P(NetP, UnixgramReadFromWriteTo) {
  TempDir dir;
  std::string a_path = dir.file("a.sock"), b_path = dir.file("b.sock");
  net_run(GetParam(), [&] {
    auto [a, aerr] = net::listen_packet("unixgram", a_path);
    ASSERT_FALSE(aerr) << aerr;
    auto [b, berr] = net::listen_packet("unixgram", b_path);
    ASSERT_FALSE(berr) << berr;
    EXPECT_EQ(a.local_addr().network(), "unixgram");
    EXPECT_EQ(a.local_addr().string(), a_path);
    ASSERT_FALSE(a.set_read_deadline(gocxx::time::now() + 60s));
    ASSERT_FALSE(b.set_read_deadline(gocxx::time::now() + 60s));

    Chan<net::ReadFromResult> got(1);
    auto buf = std::make_shared<std::array<char, 64>>();
    net::PacketConn bb = b;
    go_until_parked(kIOWait, [bb, buf, got]() mutable { got.send(bb.read_from(*buf)); });
    auto w = a.write_to("ping", b.local_addr());
    ASSERT_FALSE(w.err) << w.err;
    EXPECT_EQ(w.value, 4u);
    auto r = recv_within(got);
    ASSERT_TRUE(r);
    ASSERT_FALSE(r->err) << r->err;
    EXPECT_EQ(std::string(buf->data(), r->n), "ping");
    EXPECT_EQ(r->addr.string(), a_path);
    EXPECT_EQ(r->addr.network(), "unixgram");
    ASSERT_FALSE(b.write_to("pong", r->addr).err);
    char back[8];
    auto r2 = a.read_from(back);
    ASSERT_FALSE(r2.err) << r2.err;
    EXPECT_EQ(std::string(back, r2.n), "pong");
    EXPECT_EQ(r2.addr.string(), b_path);

    auto [anon, derr] = net::dial("unixgram", b_path);
    ASSERT_FALSE(derr) << derr;
    EXPECT_EQ(anon.remote_addr().string(), b_path);
    ASSERT_FALSE(anon.write("anon").err);
    char in[8];
    auto r3 = b.read_from(in);
    ASSERT_FALSE(r3.err) << r3.err;
    EXPECT_EQ(std::string(in, r3.n), "anon");
    EXPECT_FALSE(r3.addr) << "an unnamed sender should read as a nil address, got " << r3.addr;
  });
}

// ---- IPv6 -----------------------------------------------------------------------------------

bool ipv6_loopback_available() {
  auto [ln, err] = net::listen("tcp6", "[::1]:0");
  if (err) return false;
  (void)ln.close();
  return true;
}

TEST_P(NetP, IPv6Loopback) {
  if (!ipv6_loopback_available()) GTEST_SKIP() << "no IPv6 loopback ([::1]) on this host";
  net_run(GetParam(), [] {
    Pair p = connected("tcp6", "[::1]:0");
    ASSERT_TRUE(p);
    EXPECT_TRUE(p.ln.addr().string().starts_with("[::1]:")) << p.ln.addr();
    EXPECT_EQ(p.ln.addr().ip(), "::1");
    EXPECT_EQ(p.client.remote_addr(), p.ln.addr());
    EXPECT_EQ(p.client.local_addr().ip(), "::1");
    EXPECT_EQ(p.server.remote_addr(), p.client.local_addr());
    go(echo, p.server);
    EXPECT_TRUE(round_trip(p.client, "over ipv6"));
    // "tcp" dials the bracketed literal too.
    auto [c, err] = net::dial("tcp", p.ln.addr().string());
    ASSERT_FALSE(err) << err;
    auto [s, aerr] = p.ln.accept();
    ASSERT_FALSE(aerr) << aerr;
    go(echo, s);
    EXPECT_TRUE(round_trip(c, "tcp to [::1]"));

    auto [pc, perr] = net::listen_packet("udp6", "[::1]:0");
    ASSERT_FALSE(perr) << perr;
    ASSERT_FALSE(pc.set_read_deadline(gocxx::time::now() + 60s));
    ASSERT_FALSE(pc.write_to("v6 datagram", pc.local_addr()).err);
    char b[32];
    auto r = pc.read_from(b);
    ASSERT_FALSE(r.err) << r.err;
    EXPECT_EQ(std::string(b, r.n), "v6 datagram");
    EXPECT_EQ(r.addr, pc.local_addr());
    EXPECT_TRUE(r.addr.string().starts_with("[::1]:")) << r.addr;
  });
}

// ---- plain OS threads -----------------------------------------------------------------------

// No gocxx::run anywhere: blocking accept and read on threads (they wait in ppoll), a deadline
// on a thread's read, and close from another thread waking a thread blocked in read and in
// accept.
TEST(NetThreads, WithoutAnyRun) {
  guarded([] {
    auto [l, err] = net::listen("tcp", "127.0.0.1:0");
    ASSERT_FALSE(err) << err;
    net::Listener ln = l;
    std::string addr = ln.addr().string();

    std::atomic<pid_t> server_tid{0};
    std::string server_got;
    std::thread server([&, ln]() mutable {
      server_tid.store(this_tid(), std::memory_order_release);
      auto [c, err] = ln.accept();
      if (err) {
        ADD_FAILURE() << "accept on a thread: " << err;
        return;
      }
      char buf[5];
      auto r = io::read_full(c, std::span<char>(buf));
      server_got.assign(buf, r.value);
      EXPECT_FALSE(r.err) << r.err;
      EXPECT_FALSE(c.write(std::string_view(buf, r.value)).err);
      char b[1];
      EXPECT_EQ(c.read(b).err, io::eof);  // the client closes
    });
    ASSERT_TRUE(wait_thread_blocked(server_tid)) << "accept";
    auto [client, derr] = net::dial("tcp", addr);
    ASSERT_FALSE(derr) << derr;
    EXPECT_TRUE(round_trip(client, "hello"));
    // A read deadline on a thread.
    ASSERT_FALSE(client.set_read_deadline(gocxx::time::now() + 50ms));
    char b[1];
    EXPECT_TRUE(is_deadline_error(client.read(b).err));
    ASSERT_FALSE(client.close());
    server.join();
    EXPECT_EQ(server_got, "hello");

    // Close from another thread wakes a thread blocked in read.
    auto [c2, d2] = net::dial("tcp", addr);
    ASSERT_FALSE(d2) << d2;
    auto [s2, a2] = ln.accept();
    ASSERT_FALSE(a2) << a2;
    std::atomic<pid_t> reader_tid{0};
    Result<std::size_t> read_result;
    net::Conn rc = c2;
    std::thread reader([&, rc]() mutable {
      reader_tid.store(this_tid(), std::memory_order_release);
      char b[4];
      read_result = rc.read(b);
    });
    ASSERT_TRUE(wait_thread_blocked(reader_tid)) << "read";
    std::thread closer([c2]() mutable { EXPECT_FALSE(c2.close()); });
    closer.join();
    reader.join();
    EXPECT_TRUE(is_closed_error(read_result.err));

    // Close from another thread wakes a thread blocked in accept.
    std::atomic<pid_t> acceptor_tid{0};
    Result<net::Conn> accept_result;
    std::thread acceptor([&, ln]() mutable {
      acceptor_tid.store(this_tid(), std::memory_order_release);
      accept_result = ln.accept();
    });
    ASSERT_TRUE(wait_thread_blocked(acceptor_tid)) << "accept";
    ASSERT_FALSE(ln.close());
    acceptor.join();
    EXPECT_FALSE(accept_result.value);
    EXPECT_TRUE(is_closed_error(accept_result.err));
  });
}

// A thread blocked in read while another thread moves its deadline: shortened, the read fails;
// extended before it passes, the read gets data that arrives after the old deadline.
TEST(NetThreads, DeadlineMovedWhileThreadWaits) {
  guarded([] {
    {
      Pair p = connected();
      ASSERT_TRUE(p);
      ASSERT_FALSE(p.client.set_read_deadline(gocxx::time::now() + 1h));
      std::atomic<pid_t> tid{0};
      Result<std::size_t> result;
      net::Conn c = p.client;
      std::thread reader([&, c]() mutable {
        tid.store(this_tid(), std::memory_order_release);
        char b[4];
        result = c.read(b);
      });
      ASSERT_TRUE(wait_thread_blocked(tid));
      ASSERT_FALSE(p.client.set_read_deadline(gocxx::time::now() + 20ms));
      reader.join();
      EXPECT_TRUE(is_deadline_error(result.err));
    }
    bool conclusive = false;
    for (auto margin : {300ms, 1000ms, 3000ms, 10000ms}) {
      Pair p = connected();
      ASSERT_TRUE(p);
      TimePoint old = gocxx::time::now() + margin;
      ASSERT_FALSE(p.client.set_read_deadline(old));
      std::atomic<pid_t> tid{0};
      std::atomic<bool> returned{false};
      Result<std::size_t> result;
      net::Conn c = p.client;
      std::thread reader([&, c]() mutable {
        tid.store(this_tid(), std::memory_order_release);
        char b[4];
        result = c.read(b);
        returned.store(true);
      });
      ASSERT_TRUE(wait_thread_blocked(tid));
      ASSERT_FALSE(p.client.set_read_deadline(gocxx::time::now() + 1h));
      if (gocxx::time::now() >= old) {
        (void)p.client.close();
        reader.join();
        continue;
      }
      std::this_thread::sleep_until(old + 200ms);
      EXPECT_FALSE(returned.load()) << "the thread's read failed at the old deadline: " << result.err;
      ASSERT_FALSE(p.server.write("x").err);
      reader.join();
      EXPECT_FALSE(result.err) << result.err;
      EXPECT_EQ(result.value, 1u);
      conclusive = true;
      break;
    }
    EXPECT_TRUE(conclusive) << "never moved the deadline before it passed";
  });
}

// Inside a run, but with no goroutine waiting on the poller (the main goroutine is inside
// blocking(), joining): a plain thread dials, accepts and reads on its own.
TEST(NetThreads, InsideRunWithNoGoroutineOnThePoller) {
  net_run(2, [] {
    std::thread t([] {
      Pair p = connected();
      ASSERT_TRUE(p);
      std::thread writer([s = p.server]() mutable {
        std::this_thread::sleep_for(50ms);  // the reader usually waits first
        EXPECT_FALSE(s.write("late").err);
      });
      char b[4];
      auto r = io::read_full(p.client, std::span<char>(b));
      EXPECT_FALSE(r.err) << r.err;
      EXPECT_EQ(std::string(b, r.value), "late");
      writer.join();
    });
    gocxx::test::join(t);
  });
}

// A plain thread inside a run talks to goroutines: a goroutine accepts and echoes, the thread
// dials and reads (blocking), with a deadline too; and a goroutine and a thread read one
// connection at once.
TEST_P(NetP, PlainThreadTalksToGoroutines) {
  net_run(GetParam(), [] {
    auto [l, err] = net::listen("tcp", "127.0.0.1:0");
    ASSERT_FALSE(err) << err;
    net::Listener ln = l;
    go([ln]() mutable {
      for (;;) {
        auto [c, err] = ln.accept();
        if (err) return;
        go(echo, c);
      }
    });
    std::string addr = ln.addr().string();
    std::thread t([addr] {
      EXPECT_EQ(gocxx::goroutine_id(), 0u);
      auto [c, err] = net::dial("tcp", addr);
      ASSERT_FALSE(err) << err;
      for (int i = 0; i < 20; ++i) EXPECT_TRUE(round_trip(c, "from a thread " + std::to_string(i)));
      ASSERT_FALSE(c.set_read_deadline(gocxx::time::now() + 50ms));
      char b[1];
      EXPECT_TRUE(is_deadline_error(c.read(b).err));
      EXPECT_FALSE(c.close());
    });
    gocxx::test::join(t);

    // A goroutine and a thread reading one connection together.
    Pair p = connected();
    ASSERT_TRUE(p);
    const int kBytes = scaled(10000);
    std::atomic<int> total{0};
    net::Conn c = p.client;
    auto drain = [c, &total]() mutable {
      char b[5];
      for (;;) {
        auto [n, err] = c.read(b);
        total.fetch_add(static_cast<int>(n));
        if (err) {
          EXPECT_EQ(err, io::eof) << err;
          return;
        }
      }
    };
    gocxx::sync::WaitGroup wg;
    wg.add(1);
    go([drain, &wg]() mutable {
      drain();
      wg.done();
    });
    std::thread thread_reader(drain);
    std::string chunk(10, 'm');
    for (int sent = 0; sent < kBytes; sent += 10) ASSERT_FALSE(p.server.write(chunk).err);
    ASSERT_FALSE(p.server.close());
    wg.wait();
    gocxx::test::join(thread_reader);
    EXPECT_EQ(total.load(), kBytes);
    EXPECT_FALSE(ln.close());
  });
}

// ---- the runtime's view ---------------------------------------------------------------------

// A goroutine parked in read or accept shows "IO wait" in gocxx::debug's records and in the
// SIGQUIT-style dump.
TEST(NetDebug, BlockedCallsShowIOWait) {
  net_run(2, [] {
    Pair p = connected();
    ASSERT_TRUE(p);
    Chan<Result<std::size_t>> read_done(1);
    net::Conn c = p.client;
    auto* reader = go_until_parked(kIOWait, [c, read_done]() mutable {
      char b[1];
      read_done.send(c.read(b));
    });
    Chan<Result<net::Conn>> accept_done(1);
    net::Listener ln = p.ln;
    auto* acceptor = go_until_parked(kIOWait, [ln, accept_done]() mutable { accept_done.send(ln.accept()); });
    auto snapshot = gocxx::debug::goroutines();
    for (auto id : {reader->id, acceptor->id}) {
      const gocxx::debug::Goroutine* rec = nullptr;
      for (const auto& g : snapshot) {
        if (g.id == id) rec = &g;
      }
      ASSERT_NE(rec, nullptr) << "goroutine " << id << " missing from debug::goroutines()";
      EXPECT_EQ(rec->state, gocxx::debug::GoroutineState::waiting);
      EXPECT_EQ(rec->wait_reason, "IO wait");
      EXPECT_EQ(rec->status(), "IO wait");
    }
    std::ostringstream dump;
    gocxx::debug::write_goroutines(dump, 2);
    EXPECT_NE(dump.str().find("goroutine " + std::to_string(reader->id) + " [IO wait"), std::string::npos)
        << dump.str();
    EXPECT_NE(dump.str().find("goroutine " + std::to_string(acceptor->id) + " [IO wait"), std::string::npos)
        << dump.str();
    ASSERT_FALSE(p.server.write("x").err);
    auto r = recv_within(read_done);
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->err) << r->err;
    ASSERT_FALSE(p.ln.close());
    auto a = recv_within(accept_done);
    ASSERT_TRUE(a);
    EXPECT_TRUE(is_closed_error(a->err));
  });
}

// Every descriptor gocxx::net makes is close-on-exec (and non-blocking): listeners, dialed and
// accepted connections, TCP, UDP and Unix.
TEST(NetFds, EveryDescriptorIsCloseOnExecAndNonBlocking) {
  TempDir dir;
  net_run(2, [&] {
    std::vector<std::pair<std::string, int>> fds;
    Pair tcp = connected();
    ASSERT_TRUE(tcp);
    fds.push_back({"tcp listener", tcp.ln.fd()});
    fds.push_back({"tcp dialed", tcp.client.fd()});
    fds.push_back({"tcp accepted", tcp.server.fd()});
    Pair unix_pair = connected("unix", dir.file("fd.sock"));
    ASSERT_TRUE(unix_pair);
    fds.push_back({"unix listener", unix_pair.ln.fd()});
    fds.push_back({"unix dialed", unix_pair.client.fd()});
    fds.push_back({"unix accepted", unix_pair.server.fd()});
    auto [udp, uerr] = net::listen_packet("udp", "127.0.0.1:0");
    ASSERT_FALSE(uerr) << uerr;
    fds.push_back({"udp packet conn", udp.fd()});
    auto [udp_conn, derr] = net::dial("udp", udp.local_addr().string());
    ASSERT_FALSE(derr) << derr;
    fds.push_back({"udp dialed", udp_conn.fd()});
    auto [gram, gerr] = net::listen_packet("unixgram", dir.file("gram.sock"));
    ASSERT_FALSE(gerr) << gerr;
    fds.push_back({"unixgram", gram.fd()});
    for (const auto& [what, fd] : fds) {
      ASSERT_GE(fd, 0) << what;
      EXPECT_TRUE(is_cloexec(fd)) << what << " (fd " << fd << ") lacks FD_CLOEXEC";
      EXPECT_TRUE(is_nonblocking(fd)) << what << " (fd " << fd << ") is blocking";
    }
  });
}

// net::stats(): sockets_opened / sockets_closed move by what the test did, failure paths
// included, and open_fds comes back to where it started once everything is closed.
TEST(NetFds, StatsCountSocketsAndNothingLeaks) {
  TempDir dir;
  net_run(2, [&] {
    {  // warm-up: the poller's own descriptors are made on first use
      Pair warm = connected();
      ASSERT_TRUE(warm);
    }
    net::Stats base = net::stats();
    auto opened = [&] { return net::stats().sockets_opened - base.sockets_opened; };
    auto closed = [&] { return net::stats().sockets_closed - base.sockets_closed; };
    auto fds = [&] { return net::stats().open_fds - base.open_fds; };

    Pair p = connected();
    ASSERT_TRUE(p);
    EXPECT_EQ(opened(), 3u);  // listener, dialed, accepted
    EXPECT_EQ(closed(), 0u);
    EXPECT_EQ(fds(), 3);

    // listen on a port in use: a socket made and closed.
    auto [l2, lerr] = net::listen("tcp", p.ln.addr().string());
    EXPECT_TRUE(lerr);
    EXPECT_EQ(opened(), 4u);
    EXPECT_EQ(closed(), 1u);
    EXPECT_EQ(fds(), 3);

    // dial to a closed port: made and closed (closed_port_address itself listens and closes).
    std::string refused = closed_port_address();
    auto [c2, derr] = net::dial("tcp", refused);
    EXPECT_EQ(os::errno_of(derr), ECONNREFUSED) << derr;
    EXPECT_EQ(opened(), 6u);
    EXPECT_EQ(closed(), 3u);
    EXPECT_EQ(fds(), 3);

    // Errors before any socket: unknown network, bad address, nothing opened.
    EXPECT_TRUE(net::dial("tcp9", "127.0.0.1:1").err);
    EXPECT_TRUE(net::dial("tcp", "127.0.0.1").err);
    EXPECT_TRUE(net::listen("udp", "127.0.0.1:0").err);
    EXPECT_EQ(opened(), 6u);

    // Close everything; calls after close open nothing.
    EXPECT_FALSE(p.client.close());
    EXPECT_FALSE(p.server.close());
    EXPECT_FALSE(p.ln.close());
    EXPECT_EQ(closed(), 6u);
    EXPECT_TRUE(p.ln.accept().err);
    char b[1];
    EXPECT_TRUE(p.client.read(b).err);
    EXPECT_TRUE(p.client.close());
    EXPECT_EQ(opened(), 6u);
    EXPECT_EQ(closed(), 6u);

    // UDP and Unix, closed by their last handle.
    {
      auto [pc, err] = net::listen_packet("udp", "127.0.0.1:0");
      ASSERT_FALSE(err) << err;
      Pair u = connected("unix", dir.file("stats.sock"));
      ASSERT_TRUE(u);
      auto [missing, merr] = net::dial("unix", dir.file("missing.sock"));
      EXPECT_TRUE(merr);
      EXPECT_EQ(opened(), 11u);
      EXPECT_EQ(closed(), 7u);
    }
    EXPECT_EQ(opened(), closed());
    EXPECT_EQ(fds(), 0);
  });
}

// ---- stress ---------------------------------------------------------------------------------

// Go's TestTCPStress and TestTCPConcurrentAccept: several goroutines accept on one listener;
// many clients exchange many messages at once.
TEST_P(NetStressP, ConcurrentAcceptAndEcho) {
  net_run(GetParam(), [] {
    auto [l, err] = net::listen("tcp", "127.0.0.1:0");
    ASSERT_FALSE(err) << err;
    net::Listener ln = l;
    const int kAcceptors = 3, kClients = 8, kMsgs = scaled(200);
    gocxx::sync::WaitGroup acceptors;
    acceptors.add(kAcceptors);
    for (int i = 0; i < kAcceptors; ++i) {
      go([ln, &acceptors]() mutable {
        for (;;) {
          auto [c, err] = ln.accept();
          if (err) {
            EXPECT_TRUE(is_closed_error(err));
            break;
          }
          go(echo, c);
        }
        acceptors.done();
      });
    }
    gocxx::sync::WaitGroup clients;
    clients.add(kClients);
    std::string addr = ln.addr().string();
    for (int i = 0; i < kClients; ++i) {
      go([addr, i, kMsgs, &clients] {
        auto [c, err] = net::dial("tcp", addr);
        if (err) {
          ADD_FAILURE() << err;
        } else {
          std::string msg(512, static_cast<char>('a' + i));
          for (int j = 0; j < kMsgs; ++j) {
            msg[0] = static_cast<char>('0' + j % 10);
            if (!round_trip(c, msg)) {
              ADD_FAILURE() << "client " << i << " message " << j;
              break;
            }
          }
          (void)c.close();
        }
        clients.done();
      });
    }
    clients.wait();
    EXPECT_FALSE(ln.close());
    acceptors.wait();
  });
}

INSTANTIATE_TEST_SUITE_P(Procs, NetP, ::testing::Values(1, 2));
INSTANTIATE_TEST_SUITE_P(Procs, NetStressP, ::testing::Values(1, 2, 4));
INSTANTIATE_TEST_SUITE_P(Networks, NetStreamP, ::testing::Values("tcp", "unix"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           return std::string(info.param);
                         });

}  // namespace

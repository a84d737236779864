// Tests for fault injection in gocxx::net (net::Faults, GOCXX_FAULTS): the spec syntax and its
// errors, each fault on live loopback connections (what the peer receives, the errors both
// ends see), the configuration's precedence, and reproducibility from the seed.
//
// Timing is asserted only where it cannot flake: on what was injected (the observer's events:
// each delay, each slice) and as lower bounds (a delayed round trip is never shorter than its
// delay). Every test runs under a hang guard (SIGQUIT goroutine dump after 120 s).
#include "test_util.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <gocxx/net.hpp>
#include <gocxx/os.hpp>

namespace {

using namespace std::chrono_literals;
namespace net = gocxx::net;
namespace errors = gocxx::errors;
namespace os = gocxx::os;
using gocxx::Chan;
using gocxx::error;
using gocxx::Result;
using net::FaultKind;
using net::Faults;

constexpr auto kIOWait = gocxx::detail::WaitReason::kIOWait;

// ---- harness ------------------------------------------------------------------------------

// body as the main goroutine of a 2-P run that then waits for its goroutines; hang-guarded.
template <class F>
void faults_run(F body) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = std::string(info->test_suite_name()) + "." + info->name();
  gocxx::test::expect_returns([&] { gocxx::test::run_joined(2, body); }, name.c_str());
}

// Records every injected fault (and passes it to `hook`); on destruction turns the observer
// and the process-wide faults off again, so tests do not leak faults into each other. The
// events live as long as the observer may still run (a goroutine finishing a faulted call).
class Recorder {
 public:
  explicit Recorder(std::function<void(const net::FaultEvent&)> hook = nullptr) {
    net::set_fault_observer([log = log_, hook](const net::FaultEvent& e) {
      {
        std::lock_guard lk(log->mu);
        log->events.push_back(e);
      }
      if (hook) hook(e);
    });
  }
  ~Recorder() {
    net::set_fault_observer(nullptr);
    net::set_faults(Faults{});
  }
  std::vector<net::FaultEvent> events(FaultKind kind) const {
    std::lock_guard lk(log_->mu);
    std::vector<net::FaultEvent> out;
    for (const auto& e : log_->events) {
      if (e.kind == kind) out.push_back(e);
    }
    return out;
  }
  std::size_t size() const {
    std::lock_guard lk(log_->mu);
    return log_->events.size();
  }

 private:
  struct Log {
    std::mutex mu;
    std::vector<net::FaultEvent> events;
  };
  std::shared_ptr<Log> log_ = std::make_shared<Log>();
};

struct Pair {
  net::Listener ln;
  net::Conn client;  // dialed by the dialer
  net::Conn server;  // accepted
};

// A connection through a fresh listener: the client side dialed by `dialer`, the server side
// accepted with `listener_faults` (nullopt: the process-wide default).
Pair connect(const net::Dialer& dialer = {}, std::optional<Faults> listener_faults = std::nullopt,
             std::string_view network = "tcp", std::string_view address = "127.0.0.1:0") {
  Pair p;
  auto [ln, err] = net::listen(network, address);
  if (err) {
    ADD_FAILURE() << "listen: " << err;
    return p;
  }
  if (listener_faults) ln.set_faults(*listener_faults);
  auto [client, dial_err] = dialer.dial(ln.addr().network(), ln.addr().string());
  auto [server, accept_err] = ln.accept();
  if (dial_err || accept_err) ADD_FAILURE() << "dial: " << dial_err << "; accept: " << accept_err;
  p.ln = ln;
  p.client = client;
  p.server = server;
  return p;
}

// Echoes what c reads until EOF or an error, in a goroutine, then closes c.
void echo(net::Conn c) {
  gocxx::go([c]() mutable {
    char buf[4096];
    for (;;) {
      auto [n, err] = c.read(buf);
      if (err || c.write({buf, n}).err) break;
    }
    (void)c.close();
  });
}

// Writes one byte and reads it back: one round trip. False on an error. The read asks for
// more than comes, as real readers do (the socket is then drained: the next read waits first).
bool round_trip(net::Conn& c) {
  char b[64] = {'x'};
  if (c.write({b, 1}).err) return false;
  return !c.read(b).err;
}

// Everything c reads until EOF, in a goroutine; also the largest single read.
struct Drained {
  std::string data;
  std::size_t largest_read = 0;
  std::size_t reads = 0;
};
Chan<Drained> drain(net::Conn c, std::function<void(std::size_t)> on_read = nullptr) {
  Chan<Drained> out(1);
  gocxx::go([c, out, on_read]() mutable {
    Drained d;
    std::vector<char> buf(64 << 10);
    for (;;) {
      auto [n, err] = c.read(buf);
      if (err) break;
      d.data.append(buf.data(), n);
      d.largest_read = std::max(d.largest_read, n);
      ++d.reads;
      if (on_read) on_read(n);
    }
    out.send(std::move(d));
  });
  return out;
}

std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 26) % 26);
  return s;
}

// Starts a read on c in a goroutine and returns once it is parked in "IO wait".
Chan<Result<std::size_t>> parked_read(net::Conn c) {
  Chan<Result<std::size_t>> done(1);
  gocxx::test::go_until_parked(kIOWait, [c, done]() mutable {
    char b[16];
    done.send(c.read(b));
  });
  return done;
}

// A deadline's error, as Go reports it: an OpError that is_timeout and wraps
// os::err_deadline_exceeded.
bool timed_out(const error& err) {
  return net::is_timeout(err) && errors::is(err, os::err_deadline_exceeded) &&
         errors::as<net::OpError>(err) != nullptr && err.message().ends_with(": i/o timeout");
}

std::string op_of(const error& err) {
  const auto* op = errors::as<net::OpError>(err);
  return op ? op->op : "<not an OpError>";
}

// ---- the spec syntax ----------------------------------------------------------------------

TEST(FaultsSpec, CanonicalSpecsRoundTrip) {
  for (std::string spec : {"latency=20ms,jitter=10%,reset=0.1%",
                           "latency=1500us,latency_prob=50%",
                           "bandwidth=64KiB/s,slice=512,slice_delay=1ms",
                           "bandwidth=1MB/s,slice=4KiB",
                           "reset_conn=5%,timeout=0.01%,timeout_conn=1%,slow_close=2s",
                           "accept_fail=1%,dial_fail=100%,seed=42",
                           "latency=90m,jitter=100%,latency_prob=0%"}) {
    EXPECT_EQ(Faults::parse(spec).string(), spec);
  }
  EXPECT_EQ(Faults::parse("").string(), "");
  EXPECT_EQ(Faults::parse(" "), Faults{});
  EXPECT_FALSE(Faults{}.any());
  EXPECT_FALSE(Faults::parse("seed=9").any());
  EXPECT_TRUE(Faults::parse("dial_fail=1%").any());
}

TEST(FaultsSpec, OtherSpellingsReadAsTheCanonicalOnes) {
  const std::pair<const char*, const char*> cases[] = {
      {" latency = 20ms , reset=1% ", "latency=20ms,reset=1%"},
      {"latency=1h30m", "latency=90m"},
      {"latency=1.5ms", "latency=1500us"},
      {"latency=20\u00b5s", "latency=20us"},
      {"reset=0.001", "reset=0.1%"},
      {"reset=1", "reset=100%"},
      {"bandwidth=1048576", "bandwidth=1MiB/s"},
      {"bandwidth=2k/s", "bandwidth=2kB/s"},
      {"slice=4096B", "slice=4KiB"},
      {"latency=0", ""},
  };
  for (auto [in, want] : cases) EXPECT_EQ(Faults::parse(in).string(), want) << in;
  // Values that no short percentage writes exactly still read back as the same value.
  Faults odd{.latency = 3ns, .jitter = 1.0 / 3, .reset = 1e-9, .dial_fail = 0.123456789};
  EXPECT_EQ(Faults::parse(odd.string()), odd) << odd.string();
}

TEST(FaultsSpec, BadSpecsNameTheBadItem) {
  const std::pair<const char*, const char*> cases[] = {
      {"latncy=20ms", "faults: \"latncy=20ms\": unknown fault \"latncy\" (want one of: latency, "},
      {"latency", "faults: \"latency\": want name=value"},
      {"latency=20xs", "faults: \"latency=20xs\": invalid duration \"20xs\""},
      {"latency=-5ms", "faults: \"latency=-5ms\": invalid duration"},
      {"latency=99999999999h", "faults: \"latency=99999999999h\": invalid duration"},
      {"latency=ms", "invalid duration \"ms\""},
      {"reset=150%", "faults: \"reset=150%\": 150% is out of range (want 0% to 100%, or 0 to 1)"},
      {"reset=-1%", "-1% is out of range"},
      {"reset=2", "2 is out of range"},
      {"reset=abc", "faults: \"reset=abc\": invalid probability \"abc\""},
      {"reset=nan", "invalid probability \"nan\""},
      {"latency=1ms,latency=2ms", "faults: \"latency=2ms\": latency is given twice"},
      {"latency=1ms,,reset=1%", "faults: empty item in \"latency=1ms,,reset=1%\""},
      {"latency=1ms,", "faults: empty item"},
      {"jitter=10%", "faults: jitter=10% needs latency"},
      {"latency_prob=50%", "faults: latency_prob=50% needs latency"},
      {"slice_delay=1ms", "faults: slice_delay=1ms needs slice"},
      {"bandwidth=fast", "faults: \"bandwidth=fast\": invalid rate \"fast\""},
      {"slice=1XB", "faults: \"slice=1XB\": invalid size \"1XB\""},
      {"slice=99999999999GiB", "is too large"},
      {"seed=-1", "faults: \"seed=-1\": invalid seed \"-1\""},
  };
  for (auto [spec, want] : cases) {
    try {
      (void)Faults::parse(spec);
      ADD_FAILURE() << spec << ": no error";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(want), std::string::npos) << spec << ": " << e.what();
    }
  }
}

TEST(FaultsSpec, TheApiValidatesToo) {
  EXPECT_THROW(Faults{.reset = 1.5}.validate(), std::invalid_argument);
  EXPECT_THROW(Faults{.latency = -1ms}.validate(), std::invalid_argument);
  EXPECT_THROW(net::set_faults(Faults{.jitter = 0.1}), std::invalid_argument);
  EXPECT_THROW(net::Listener{}.set_faults(Faults{.accept_fail = -0.5}), std::invalid_argument);
  EXPECT_THROW((void)net::Dialer{.faults = Faults{.dial_fail = 2}}.dial("tcp", "127.0.0.1:1"),
               std::invalid_argument);
  EXPECT_EQ(net::faults(), Faults{});  // the failed set_faults changed nothing
}

// ---- GOCXX_FAULTS: read on first use; a bad value exits 2 (death tests: a fresh process) ---

class FaultsEnv : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
  void TearDown() override {
    ::unsetenv("GOCXX_FAULTS");
    ::unsetenv("GOCXX_FAULTS_SEED");
  }
};

TEST_F(FaultsEnv, AValidSpecIsTheDefaultAndIsAnnounced) {
  ::setenv("GOCXX_FAULTS", "latency=2ms,jitter=10%", 1);
  ::setenv("GOCXX_FAULTS_SEED", "7", 1);
  EXPECT_EXIT(std::exit(net::faults() == Faults::parse("latency=2ms,jitter=10%,seed=7") ? 0 : 1),
              ::testing::ExitedWithCode(0),
              "gocxx: GOCXX_FAULTS: injecting network faults latency=2ms,jitter=10%,seed=7");
}

TEST_F(FaultsEnv, AnInvalidSpecExits2) {
  ::setenv("GOCXX_FAULTS", "latency=20xs", 1);
  EXPECT_EXIT((void)net::faults(), ::testing::ExitedWithCode(2),
              "gocxx: invalid GOCXX_FAULTS=latency=20xs: faults: .latency=20xs.: invalid duration");
  ::setenv("GOCXX_FAULTS", "reset=5%,lag=1ms", 1);
  EXPECT_EXIT((void)net::dial("tcp", "127.0.0.1:1"), ::testing::ExitedWithCode(2),
              "invalid GOCXX_FAULTS=reset=5%,lag=1ms: .*unknown fault .lag.");
}

TEST_F(FaultsEnv, AnInvalidSeedExits2) {
  ::setenv("GOCXX_FAULTS_SEED", "12abc", 1);
  EXPECT_EXIT(net::Listener{}.set_faults(Faults{.latency = 1ms}), ::testing::ExitedWithCode(2),
              "gocxx: invalid GOCXX_FAULTS_SEED=12abc: want a whole number from 1 to 2\\^64-1");
}

// ---- latency --------------------------------------------------------------------------------

TEST(FaultsLatency, DistributionMatchesTheConfiguration) {
  faults_run([] {
    Recorder rec;
    constexpr int kRoundTrips = 1000;
    constexpr auto kLatency = 1ms;
    constexpr double kJitter = 0.1;
    const gocxx::time::Duration lo = 900us, hi = 1100us;  // kLatency * (1 -+ kJitter)
    Faults f{.latency = kLatency, .jitter = kJitter, .seed = 1};
    Pair p = connect(net::Dialer{.faults = f});
    echo(p.server);
    int shorter = 0;
    for (int i = 0; i < kRoundTrips; ++i) {
      auto start = gocxx::time::now();
      ASSERT_TRUE(round_trip(p.client)) << i;
      if (gocxx::time::now() - start < lo) ++shorter;
    }
    (void)p.client.close();
    EXPECT_EQ(shorter, 0) << "round trips shorter than the smallest injected delay";
    auto delays = rec.events(FaultKind::latency);
    ASSERT_EQ(delays.size(), static_cast<std::size_t>(kRoundTrips));  // latency_prob 1: every read
    gocxx::time::Duration sum{};
    for (std::size_t i = 0; i < delays.size(); ++i) {
      EXPECT_EQ(delays[i].index, i);
      EXPECT_STREQ(delays[i].op, "read");
      EXPECT_GE(delays[i].delay, lo);
      EXPECT_LE(delays[i].delay, hi);
      sum += delays[i].delay;
    }
    auto mean = sum / kRoundTrips;
    const gocxx::time::Duration latency = kLatency;
    EXPECT_LE(std::chrono::abs(mean - latency), latency / 20) << "mean " << mean.count() << " ns";
  });
}

TEST(FaultsLatency, ProbabilityModeDelaysThatFractionOfReads) {
  faults_run([] {
    Recorder rec;
    constexpr int kRoundTrips = 1000;
    Faults f{.latency = 10us, .latency_prob = 0.3, .seed = 2};
    Pair p = connect(net::Dialer{.faults = f});
    echo(p.server);
    for (int i = 0; i < kRoundTrips; ++i) ASSERT_TRUE(round_trip(p.client)) << i;
    (void)p.client.close();
    std::size_t delayed = rec.events(FaultKind::latency).size();
    EXPECT_GT(delayed, kRoundTrips * 0.25);  // binomial(1000, 0.3): 300 +- 14.5
    EXPECT_LT(delayed, kRoundTrips * 0.35);
  });
}

TEST(FaultsLatency, ADelayedReadEndsAtItsDeadlineOrAtClose) {
  faults_run([] {
    Recorder rec;
    Pair p = connect(net::Dialer{.faults = Faults{.latency = 1h}});
    ASSERT_FALSE(p.server.write("a").err);  // arrived: the read waits in the injected delay
    auto done = parked_read(p.client);
    ASSERT_FALSE(p.client.set_read_deadline(gocxx::time::now() + 10ms));
    Result<std::size_t> r = *done.recv();
    EXPECT_TRUE(timed_out(r.err)) << r.err;
    EXPECT_EQ(op_of(r.err), "read");
    EXPECT_EQ(r.value, 0u);

    ASSERT_FALSE(p.client.set_read_deadline(gocxx::time::TimePoint{}));
    done = parked_read(p.client);
    ASSERT_FALSE(p.client.close());
    r = *done.recv();
    EXPECT_TRUE(errors::is(r.err, net::err_closed)) << r.err;
    EXPECT_TRUE(r.err.message().ends_with(": use of closed network connection")) << r.err;
    EXPECT_EQ(rec.events(FaultKind::latency).size(), 0u);  // no delay ran to its end
    (void)p.server.close();
  });
}

// ---- timeout: a connection that stops answering --------------------------------------------

TEST(FaultsTimeout, ASilentConnectionFailsAtTheDeadline) {
  faults_run([] {
    Recorder rec;
    Pair p = connect(net::Dialer{.faults = Faults{.timeout_conn = 1}});
    ASSERT_FALSE(p.server.write("hello").err);  // sent, never delivered
    ASSERT_FALSE(p.client.set_deadline(gocxx::time::now() + 10ms));
    char buf[16];
    auto r = p.client.read(buf);
    EXPECT_TRUE(timed_out(r.err)) << r.err;
    EXPECT_EQ(op_of(r.err), "read");
    auto w = p.client.write("x");
    EXPECT_TRUE(timed_out(w.err)) << w.err;
    EXPECT_EQ(op_of(w.err), "write");
    EXPECT_EQ(w.value, 0u);
    ASSERT_FALSE(p.server.set_read_deadline(gocxx::time::now() + 10ms));
    EXPECT_TRUE(timed_out(p.server.read(buf).err));  // nothing was sent to the server either

    ASSERT_FALSE(p.client.set_deadline(gocxx::time::TimePoint{}));
    auto done = parked_read(p.client);  // hangs in "IO wait" until close
    ASSERT_FALSE(p.client.close());
    EXPECT_TRUE(errors::is(done.recv()->err, net::err_closed));
    auto events = rec.events(FaultKind::timeout);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_STREQ(events[0].op, "conn");
    (void)p.server.close();
  });
}

TEST(FaultsTimeout, AnOperationCanSilenceTheConnection) {
  faults_run([] {
    Recorder rec;
    Pair p = connect(net::Dialer{.faults = Faults{.timeout = 1}});
    ASSERT_FALSE(p.client.set_write_deadline(gocxx::time::now() + 10ms));
    EXPECT_TRUE(timed_out(p.client.write("x").err));
    auto events = rec.events(FaultKind::timeout);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_STREQ(events[0].op, "write");
    EXPECT_EQ(events[0].index, 0u);
    (void)p.client.close();
    (void)p.server.close();
  });
}

// ---- reset ----------------------------------------------------------------------------------

TEST(FaultsReset, BothEndsSeeConnectionResetByPeer) {
  faults_run([] {
    Recorder rec;
    Pair p = connect(net::Dialer{.faults = Faults{.reset = 1}});
    auto w = p.client.write("x");
    EXPECT_EQ(os::errno_of(w.err), ECONNRESET) << w.err;
    EXPECT_EQ(op_of(w.err), "write");
    EXPECT_TRUE(w.err.message().ends_with(": write: connection reset by peer")) << w.err;
    char buf[8];
    auto r = p.server.read(buf);  // a real RST reached the peer
    EXPECT_EQ(os::errno_of(r.err), ECONNRESET) << r.err;
    EXPECT_EQ(r.err.message(), "read tcp " + p.server.local_addr().string() + "->" +
                                   p.server.remote_addr().string() +
                                   ": read: connection reset by peer");
    r = p.client.read(buf);  // and the connection stays reset
    EXPECT_EQ(os::errno_of(r.err), ECONNRESET) << r.err;
    auto events = rec.events(FaultKind::reset);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_STREQ(events[0].op, "write");
    (void)p.client.close();
    (void)p.server.close();
  });
}

TEST(FaultsReset, ResetConnResetsNewConnections) {
  faults_run([] {
    Recorder rec;
    Pair p = connect({}, Faults{.reset_conn = 1});
    char buf[8];
    auto r = p.client.read(buf);
    EXPECT_EQ(os::errno_of(r.err), ECONNRESET) << r.err;
    EXPECT_EQ(os::errno_of(p.server.write("x").err), ECONNRESET);
    ASSERT_EQ(rec.events(FaultKind::reset).size(), 1u);
    EXPECT_STREQ(rec.events(FaultKind::reset)[0].op, "conn");
    (void)p.client.close();
    (void)p.server.close();

    // Unix sockets have no RST: the peer reads EOF.
    std::string path = "@gocxx-faults-" + std::to_string(::getpid());
    Pair u = connect({}, Faults{.reset_conn = 1}, "unix", path);
    EXPECT_EQ(u.client.read(buf).err, gocxx::io::eof);
    EXPECT_EQ(os::errno_of(u.server.read(buf).err), ECONNRESET);
    (void)u.client.close();
    (void)u.server.close();
  });
}

// ---- accept and dial failures -------------------------------------------------------------

TEST(FaultsAccept, AcceptFailsWithEMFILEAndTheConnectionWaits) {
  faults_run([] {
    Recorder rec;
    auto [ln, err] = net::listen("tcp", "127.0.0.1:0");
    ASSERT_FALSE(err);
    ln.set_faults(Faults{.accept_fail = 1});
    auto [client, dial_err] = net::dial("tcp", ln.addr().string());
    ASSERT_FALSE(dial_err);
    auto [none, accept_err] = ln.accept();
    EXPECT_FALSE(none);
    EXPECT_EQ(os::errno_of(accept_err), EMFILE);
    EXPECT_EQ(accept_err.message(),
              "accept tcp " + ln.addr().string() + ": accept4: too many open files");
    ASSERT_EQ(rec.events(FaultKind::accept_fail).size(), 1u);

    ln.set_faults(Faults{});
    auto [server, again] = ln.accept();  // the same connection, still queued
    ASSERT_FALSE(again);
    ASSERT_FALSE(client.write("ping").err);
    char buf[4];
    auto r = gocxx::io::read_full(server, buf);
    ASSERT_FALSE(r.err);
    EXPECT_EQ(std::string(buf, 4), "ping");
    (void)client.close();
    (void)server.close();
    (void)ln.close();
  });
}

TEST(FaultsDial, DialFailsWithConnectionRefused) {
  faults_run([] {
    Recorder rec;
    auto [ln, err] = net::listen("tcp", "127.0.0.1:0");
    ASSERT_FALSE(err);
    net::Dialer refused{.faults = Faults{.dial_fail = 1}};
    auto [c, dial_err] = refused.dial("tcp", ln.addr().string());
    EXPECT_FALSE(c);
    EXPECT_EQ(os::errno_of(dial_err), ECONNREFUSED);
    EXPECT_EQ(dial_err.message(),
              "dial tcp " + ln.addr().string() + ": connect: connection refused");
    ASSERT_FALSE(ln.set_deadline(gocxx::time::now() + 10ms));
    EXPECT_TRUE(timed_out(ln.accept().err));  // no connection was made

    net::set_faults(Faults{.dial_fail = 1});  // the process-wide default
    EXPECT_EQ(os::errno_of(net::dial("tcp", ln.addr().string()).err), ECONNREFUSED);
    net::set_faults(Faults{});
    auto [ok, ok_err] = net::dial("tcp", ln.addr().string());
    EXPECT_FALSE(ok_err);
    EXPECT_EQ(rec.events(FaultKind::dial_fail).size(), 2u);
    (void)ok.close();
    (void)ln.close();
  });
}

// ---- where faults come from ---------------------------------------------------------------

TEST(FaultsConfig, ListenerAndDialerFaultsReplaceTheDefault) {
  faults_run([] {
    Recorder rec;
    net::set_faults(Faults{.reset_conn = 1});
    const net::Dialer none{.faults = Faults{}};
    Pair clean = connect(none, Faults{});  // both ends opted out
    echo(clean.server);
    EXPECT_TRUE(round_trip(clean.client));
    (void)clean.client.close();
    EXPECT_EQ(rec.size(), 0u);

    Pair reset = connect(none);  // the listener takes the default
    char buf[8];
    EXPECT_EQ(os::errno_of(reset.client.read(buf).err), ECONNRESET);
    EXPECT_EQ(rec.events(FaultKind::reset).size(), 1u);
    (void)reset.client.close();
    (void)reset.server.close();
  });
}

TEST(FaultsConfig, SetFaultsResolvesTheSeed) {
  Recorder rec;
  net::set_faults(Faults{.latency = 1ms});
  EXPECT_NE(net::faults().seed, 0u);
  net::set_faults(Faults{.latency = 1ms, .seed = 5});
  EXPECT_EQ(net::faults().string(), "latency=1ms,seed=5");
}

// ---- reproducibility ------------------------------------------------------------------------

// The faults a fresh listener's first connection injects over lock-step round trips (each
// read gets one byte, so operation indexes do not depend on timing), until a reset ends it.
using Sequence = std::vector<std::tuple<FaultKind, std::string, std::uint64_t, std::int64_t>>;
Sequence fault_sequence(std::uint64_t seed) {
  Recorder rec;
  Faults f{.latency = 20us, .jitter = 0.5, .latency_prob = 0.5, .reset = 0.003, .seed = seed};
  Pair p = connect(net::Dialer{.faults = Faults{}}, f);
  echo(p.server);
  for (int i = 0; i < 300 && round_trip(p.client); ++i) {
  }
  (void)p.client.close();
  gocxx::test::join_goroutines();  // the echo goroutine's faults are in
  Sequence out;
  for (FaultKind k : {FaultKind::latency, FaultKind::reset}) {
    for (const auto& e : rec.events(k)) out.emplace_back(e.kind, e.op, e.index, e.delay.count());
  }
  return out;
}

TEST(FaultsSeed, TheSameSeedGivesTheSameFaults) {
  faults_run([] {
    auto a = fault_sequence(42), b = fault_sequence(42), c = fault_sequence(43);
    ASSERT_GT(a.size(), 10u);
    EXPECT_EQ(std::get<0>(a.back()), FaultKind::reset);  // seed 42 draws a reset within 300
    EXPECT_EQ(a, b);
    EXPECT_NE(a, c);
  });
}

// ---- slicing and bandwidth ------------------------------------------------------------------

TEST(FaultsSlice, ThePeerReceivesEveryByteInSlices) {
  faults_run([] {
    constexpr std::size_t kSlice = 100, kTotal = 10000;
    // The observer holds the writer after each slice until the peer has read it, so at most
    // one slice is ever in the socket: each read the peer makes shows one slice, or less.
    gocxx::sync::Mutex mu;
    gocxx::sync::Cond cond(mu);
    std::size_t sent = 0, received = 0;
    Recorder rec([&](const net::FaultEvent& e) {
      if (e.kind != FaultKind::slice) return;
      std::lock_guard lk(mu);
      sent += e.bytes;
      while (received < sent) cond.wait();
    });
    Pair p = connect(net::Dialer{.faults = Faults{.slice = kSlice, .slice_delay = 50us}});
    auto drained = drain(p.server, [&](std::size_t n) {
      std::lock_guard lk(mu);
      received += n;
      cond.broadcast();
    });
    std::string data = pattern(kTotal);
    auto w = p.client.write(data);
    EXPECT_FALSE(w.err);
    EXPECT_EQ(w.value, kTotal);
    (void)p.client.close();
    Drained d = *drained.recv();
    EXPECT_TRUE(d.data == data) << "corrupted or reordered";
    EXPECT_LE(d.largest_read, kSlice);
    auto slices = rec.events(FaultKind::slice);
    ASSERT_EQ(slices.size(), kTotal / kSlice);
    for (std::size_t i = 0; i < slices.size(); ++i) {
      EXPECT_EQ(slices[i].bytes, kSlice);
      EXPECT_EQ(slices[i].delay, i == 0 ? gocxx::time::Duration{} : gocxx::time::Duration(50us));
    }
    (void)p.server.close();
  });
}

TEST(FaultsBandwidth, PacedDelaysAddUpToBytesOverRate) {
  faults_run([] {
    Recorder rec;
    constexpr std::size_t kRate = 1000000, kTotal = 100000;  // 1 MB/s: 100 ms
    Pair p = connect(net::Dialer{.faults = Faults{.bandwidth = kRate}});
    auto drained = drain(p.server);
    std::string data = pattern(kTotal);
    auto w = p.client.write(data);
    EXPECT_FALSE(w.err);
    (void)p.client.close();
    EXPECT_TRUE(drained.recv()->data == data) << "corrupted or reordered";
    std::size_t bytes = 0;
    gocxx::time::Duration paced{};
    for (const auto& e : rec.events(FaultKind::bandwidth)) {
      EXPECT_LE(e.bytes, kRate / 100);  // 10 ms worth per piece
      bytes += e.bytes;
      paced += e.delay;
    }
    EXPECT_EQ(bytes, kTotal);
    EXPECT_EQ(paced, gocxx::time::Duration(100ms));  // kTotal / kRate, to the nanosecond
    (void)p.server.close();
  });
}

// ---- slow close ---------------------------------------------------------------------------

TEST(FaultsSlowClose, CloseWaitsFirst) {
  faults_run([] {
    Recorder rec;
    Pair p = connect(net::Dialer{.faults = Faults{.slow_close = 5ms}});
    auto start = gocxx::time::now();
    EXPECT_FALSE(p.client.close());
    EXPECT_GE(gocxx::time::now() - start, 5ms);
    char buf[4];
    EXPECT_EQ(p.server.read(buf).err, gocxx::io::eof);
    auto events = rec.events(FaultKind::slow_close);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].delay, gocxx::time::Duration(5ms));
    (void)p.server.close();
  });
}

// ---- plain threads: delays block the thread -----------------------------------------------

TEST(FaultsThreads, PlainThreadsWaitOutDelaysToo) {
  gocxx::test::expect_returns(
      [] {
        Recorder rec;
        auto [ln, err] = net::listen("tcp", "127.0.0.1:0");
        ASSERT_FALSE(err);
        std::thread server([ln]() mutable {
          auto [c, accept_err] = ln.accept();
          char buf[64];
          for (;;) {
            auto [n, read_err] = c.read(buf);
            if (read_err || c.write({buf, n}).err) break;
          }
          (void)c.close();
        });
        net::Dialer slow{.faults = Faults{.latency = 1ms}};
        auto [c, dial_err] = slow.dial("tcp", ln.addr().string());
        ASSERT_FALSE(dial_err);
        for (int i = 0; i < 10; ++i) EXPECT_TRUE(round_trip(c));
        (void)c.close();
        server.join();
        (void)ln.close();
        EXPECT_EQ(rec.events(FaultKind::latency).size(), 10u);
      },
      "FaultsThreads.PlainThreadsWaitOutDelaysToo");
}

}  // namespace

// Fault injection at run time (faults.hpp): the process-wide default and GOCXX_FAULTS, fault
// sources, the observer, and a faulted connection's reads, writes, waits and resets.
#include "pkg/net/faults.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <mutex>
#include <random>
#include <stdexcept>

#include "gocxx/os.hpp"

#include "runtime/netpoll.hpp"
#include "runtime/timer.hpp"

namespace gocxx::net {
namespace detail {

namespace {

namespace rt = gocxx::detail;
namespace tmr = gocxx::time::detail;

constexpr std::int64_t kForever = std::numeric_limits<std::int64_t>::max();

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(time::now().time_since_epoch())
      .count();
}

// ---- draws: a counter-based generator, so no state is shared between connections ----------

// What a draw decides; each has its own number, so adding a fault never shifts another's.
enum Draw : std::uint64_t { kDrawReset, kDrawTimeout, kDrawLatency, kDrawJitter, kDrawFail };
// Streams: per connection, its creation and each direction; per source, accepts and dials.
enum Stream : std::uint64_t { kStreamConn, kStreamRead, kStreamWrite, kStreamAccept, kStreamDial };

std::uint64_t mix(std::uint64_t z) {  // splitmix64's finalizer
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// A uniform number in [0, 1): a pure function of its arguments.
double uniform(std::uint64_t seed, std::uint64_t ordinal, std::uint64_t stream,
               std::uint64_t index, std::uint64_t what) {
  std::uint64_t h = mix(seed);
  for (std::uint64_t v : {ordinal, stream, index, what}) h = mix(h ^ v);
  return static_cast<double>(h >> 11) * 0x1.0p-53;
}

bool chance(double p, double u) { return u < p; }

// ---- the environment ------------------------------------------------------------------------

struct EnvFaults {
  std::optional<Faults> faults;  // GOCXX_FAULTS
  std::uint64_t seed = 0;        // GOCXX_FAULTS_SEED; 0 if unset
};

// Bad fault settings are not ignored (unlike the runtime's tuning variables): a run that was
// asked to inject faults and silently did not would pass for a robust program.
[[noreturn]] void env_fail(const char* name, const char* value, const std::string& why) {
  std::fprintf(stderr, "gocxx: invalid %s=%s: %s\n", name, value, why.c_str());
  std::fflush(nullptr);
  std::_Exit(2);
}

EnvFaults read_env() {
  EnvFaults e;
  if (const char* v = std::getenv("GOCXX_FAULTS_SEED"); v && *v) {
    auto [end, ec] = std::from_chars(v, v + std::char_traits<char>::length(v), e.seed);
    if (ec != std::errc() || *end != '\0' || e.seed == 0) {
      env_fail("GOCXX_FAULTS_SEED", v, "want a whole number from 1 to 2^64-1");
    }
  }
  if (const char* v = std::getenv("GOCXX_FAULTS"); v && *v) {
    try {
      e.faults = Faults::parse(v);
    } catch (const std::invalid_argument& ex) {
      env_fail("GOCXX_FAULTS", v, ex.what());
    }
  }
  return e;
}

const EnvFaults& env() {
  static const EnvFaults e = read_env();
  return e;
}

std::uint64_t resolve_seed(std::uint64_t seed) {
  if (seed != 0) return seed;
  if (env().seed != 0) return env().seed;
  std::random_device rd;
  do {
    seed = (std::uint64_t{rd()} << 32) ^ rd();
  } while (seed == 0);
  return seed;
}

// ---- the process-wide default ---------------------------------------------------------------

struct Default {
  std::mutex mu;
  Faults current;                        // what faults() returns
  std::shared_ptr<FaultSource> source;   // null when `current` injects nothing
  std::atomic<bool> on{false};           // source != null, for a lock-free "off" answer
};

void install(Default& d, const Faults& f) {
  auto source = std::make_shared<FaultSource>(f);  // validates, resolves the seed
  std::lock_guard lk(d.mu);
  d.current = source->active() ? source->faults() : f;
  d.source = source->active() ? std::move(source) : nullptr;
  d.on.store(d.source != nullptr, std::memory_order_release);
}

// GOCXX_FAULTS is read here, on the first use of the default (a connection, accept or dial, or
// faults()/set_faults()), so an invalid value stops every program that uses gocxx::net.
Default& default_faults() {
  static Default* d = [] {
    auto* d = new Default;  // never destroyed: connections may outlive static destruction
    if (const auto& f = env().faults; f && f->any()) {
      install(*d, *f);
      std::fprintf(stderr, "gocxx: GOCXX_FAULTS: injecting network faults %s\n",
                   d->current.string().c_str());
    }
    return d;
  }();
  return *d;
}

// ---- the observer ---------------------------------------------------------------------------

using Observer = std::function<void(const FaultEvent&)>;
struct Observers {
  std::mutex mu;
  std::shared_ptr<const Observer> current;
  std::atomic<bool> on{false};
};
Observers& observers() {
  static auto* o = new Observers;
  return *o;
}

std::atomic<std::uint64_t> g_explicit_dials{0};

}  // namespace

void observe(const FaultEvent& e) {
  Observers& o = observers();
  if (!o.on.load(std::memory_order_acquire)) return;
  std::shared_ptr<const Observer> f;
  {
    std::lock_guard lk(o.mu);
    f = o.current;
  }
  if (f) (*f)(e);
}

std::shared_ptr<FaultSource> default_source() {
  Default& d = default_faults();
  if (!d.on.load(std::memory_order_acquire)) return nullptr;
  std::lock_guard lk(d.mu);
  return d.source;
}

std::shared_ptr<FaultSource> dial_source(const Faults& f) {
  return std::make_shared<FaultSource>(f, g_explicit_dials.fetch_add(1, std::memory_order_relaxed));
}

// ---- FaultSource ----------------------------------------------------------------------------

FaultSource::FaultSource(const Faults& f, std::uint64_t first)
    : f_(f), active_(f.any()), next_conn_(first), next_dial_(first) {
  f_.validate();
  env();  // an invalid GOCXX_FAULTS stops the program before any fault is injected
  if (active_) f_.seed = resolve_seed(f_.seed);
  Faults conn_only = f_;
  conn_only.accept_fail = conn_only.dial_fail = 0;
  conn_faults_ = conn_only.any();
}

bool FaultSource::fail_accept(std::uint64_t* index) {
  if (f_.accept_fail == 0) return false;
  *index = next_accept_.fetch_add(1, std::memory_order_relaxed);
  return chance(f_.accept_fail, uniform(f_.seed, 0, kStreamAccept, *index, kDrawFail));
}

bool FaultSource::fail_dial(std::uint64_t dial, std::uint64_t attempt) const {
  return f_.dial_fail != 0 &&
         chance(f_.dial_fail, uniform(f_.seed, dial, kStreamDial, attempt, kDrawFail));
}

std::unique_ptr<ConnFaults> FaultSource::new_conn(int fd, bool tcp) {
  if (!conn_faults_) return nullptr;
  std::uint64_t ordinal = next_conn_.fetch_add(1, std::memory_order_relaxed);
  return std::make_unique<ConnFaults>(f_, ordinal, fd, tcp);
}

// ---- ConnFaults -----------------------------------------------------------------------------

ConnFaults::ConnFaults(const Faults& f, std::uint64_t ordinal, int fd, bool tcp)
    : f_(f), ordinal_(ordinal), fd_(fd), tcp_(tcp) {
  for (Direction& d : dirs_) {
    // Runs on the timer thread with the timer lock held: a Sema release takes only locks
    // ranked after it (its root's, then the scheduler's to ready the waiter).
    d.timer = tmr::new_callback_timer(
        [](void* sema, std::uintptr_t) { static_cast<rt::Sema*>(sema)->release(false); }, &d.wake);
  }
  if (chance(f_.reset_conn, draw(kStreamConn, 0, kDrawReset))) {
    reset_now("conn", 0);
  } else if (chance(f_.timeout_conn, draw(kStreamConn, 0, kDrawTimeout))) {
    go_silent("conn", 0);
  }
}

ConnFaults::~ConnFaults() {
  for (Direction& d : dirs_) tmr::delete_callback_timer(d.timer);
}

double ConnFaults::draw(std::uint64_t stream, std::uint64_t index, std::uint64_t what) const {
  return uniform(f_.seed, ordinal_, stream, index, what);
}

error ConnFaults::reset_error(const char* op) const { return os::syscall_error(op, ECONNRESET); }

// Once reset, a connection fails every call as the reset did (the kernel would report
// ECONNRESET once, then ENOTCONN or EPIPE: one error is simpler to handle and to assert).
error ConnFaults::map(const char* op, error err) const {
  if (err && state_.load(std::memory_order_acquire) == kReset) return reset_error(op);
  return err;
}

void ConnFaults::wake(int dir) {
  // Seq_cst pairs with wait()'s store of `waiting`: either the waiter sees the new state, or
  // the waker sees the waiter and releases it.
  if (dirs_[dir].waiting.load(std::memory_order_seq_cst)) dirs_[dir].wake.release(false);
}

// An RST now, as close with SO_LINGER 0 would send, but the descriptor stays ours while calls
// use it: connect(AF_UNSPEC) is tcp_disconnect, which resets an established connection. A
// Unix socket has no RST: its peer reads EOF.
void ConnFaults::reset_now(const char* op, std::uint64_t index) {
  int expected = kNormal;
  if (!state_.compare_exchange_strong(expected, kReset, std::memory_order_seq_cst)) return;
  if (tcp_) {
    sockaddr unspec{};
    unspec.sa_family = AF_UNSPEC;
    (void)::connect(fd_, &unspec, sizeof unspec);
  } else {
    (void)::shutdown(fd_, SHUT_RDWR);
  }
  wake(0);
  wake(1);
  observe({.kind = FaultKind::reset, .op = op, .conn = ordinal_, .index = index});
}

void ConnFaults::go_silent(const char* op, std::uint64_t index) {
  int expected = kNormal;
  if (!state_.compare_exchange_strong(expected, kSilent, std::memory_order_seq_cst)) return;
  observe({.kind = FaultKind::timeout, .op = op, .conn = ordinal_, .index = index});
}

error ConnFaults::interrupted(int dir, const char* op, std::int64_t now) const {
  if (closing_.load(std::memory_order_seq_cst)) return err_closed;
  if (state_.load(std::memory_order_seq_cst) == kReset) return reset_error(op);
  std::int64_t deadline = dirs_[dir].deadline_ns.load(std::memory_order_seq_cst);
  if (deadline != 0 && (deadline < 0 || now >= deadline)) return os::err_deadline_exceeded;
  return nullptr;
}

// Parks ("IO wait") until until_ns (kForever: until something else ends it). Ends early with
// err_closed, the deadline's error or the reset's. Spurious wake-ups (a release left over from
// an earlier wait) only cost a re-check.
error ConnFaults::wait(int dir, std::int64_t until_ns, const char* op) {
  Direction& d = dirs_[dir];
  d.waiting.store(true, std::memory_order_seq_cst);
  error err;
  for (;;) {
    std::int64_t now = now_ns();
    if ((err = interrupted(dir, op, now)) || now >= until_ns) break;
    std::int64_t deadline = d.deadline_ns.load(std::memory_order_seq_cst);
    std::int64_t wake_at = deadline > 0 ? std::min(deadline, until_ns) : until_ns;
    if (wake_at != kForever) tmr::reset_callback_timer(d.timer, wake_at, 0);
    d.wake.acquire(false, rt::WaitReason::kIOWait);
  }
  d.waiting.store(false, std::memory_order_seq_cst);
  tmr::stop_callback_timer(d.timer);
  return err;
}

// The state another call may have changed while this one waited: reset fails, silence hangs.
error ConnFaults::check(int dir, const char* op) {
  switch (state_.load(std::memory_order_acquire)) {
    case kReset: return reset_error(op);
    case kSilent: return wait(dir, kForever, op);  // returns only with an error
    default: return nullptr;
  }
}

ConnFaults::Op ConnFaults::begin(int dir, const char* op) {
  std::uint64_t index = dirs_[dir].ops++;
  std::uint64_t stream = dir == 0 ? kStreamRead : kStreamWrite;
  if (state_.load(std::memory_order_acquire) == kNormal) {
    if (chance(f_.reset, draw(stream, index, kDrawReset))) {
      reset_now(op, index);
    } else if (chance(f_.timeout, draw(stream, index, kDrawTimeout))) {
      go_silent(op, index);
    }
  }
  return {index, check(dir, op)};
}

// latency * (1 +- jitter), uniform, within the bounds even after rounding to nanoseconds.
time::Duration ConnFaults::latency(std::uint64_t index) const {
  if (f_.latency == time::Duration::zero()) return {};
  if (!chance(f_.latency_prob, draw(kStreamRead, index, kDrawLatency))) return {};
  double ns = static_cast<double>(f_.latency.count());
  double lo = std::ceil(ns * (1 - f_.jitter)), hi = std::floor(ns * (1 + f_.jitter));
  double v = std::round(ns * (1 + f_.jitter * (2 * draw(kStreamRead, index, kDrawJitter) - 1)));
  return time::Duration(static_cast<std::int64_t>(std::clamp(v, lo, hi)));
}

Result<std::size_t> ConnFaults::read(std::span<char> buf, const ReadyFn& ready,
                                     const ReadFn& read) {
  auto [index, err] = begin(0, "read");
  if (err) return {0, err};
  if (time::Duration delay = latency(index); delay > time::Duration::zero()) {
    // The data (or EOF) is there; the latency holds it back from this moment, so a read that
    // waited long for data is not delayed again by the time it waited.
    if (error e = ready()) return {0, map("read", e)};
    std::int64_t start = now_ns();
    std::int64_t until = start > kForever - delay.count() ? kForever : start + delay.count();
    if (error e = wait(0, until, "read")) return {0, e};
    if (error e = check(0, "read")) return {0, e};
    observe({.kind = FaultKind::latency, .op = "read", .conn = ordinal_, .index = index,
             .delay = delay});
  }
  Result<std::size_t> r = read(buf);
  r.err = map("read", r.err);
  // Stopped answering while this read waited for data: what arrived is dropped.
  if (!r.err && state_.load(std::memory_order_acquire) == kSilent) return {0, check(0, "read")};
  return r;
}

// Bandwidth: each piece goes out when the schedule, pace_origin_ns_ + paced bytes / rate,
// reaches its last byte; its share of the schedule (bytes / rate, to the nanosecond, with no
// rounding drift across pieces) goes in *paced. Returns when the piece may go.
std::int64_t ConnFaults::bandwidth_wait(std::size_t n, time::Duration* paced) {
  auto at = [&](std::uint64_t bytes) {
    auto ns = static_cast<unsigned __int128>(bytes) * 1000000000u / f_.bandwidth;
    return static_cast<std::int64_t>(ns);
  };
  std::int64_t before = at(paced_bytes_);
  paced_bytes_ += n;
  std::int64_t after = at(paced_bytes_);
  *paced = time::Duration(after - before);
  return pace_origin_ns_ + after;
}

Result<std::size_t> ConnFaults::write(std::span<const char> data, const WriteFn& write) {
  auto [index, err] = begin(1, "write");
  if (err) return {0, err};
  if (f_.slice == 0 && f_.bandwidth == 0) {
    Result<std::size_t> r = write(data);
    r.err = map("write", r.err);
    return r;
  }
  std::size_t piece = f_.slice != 0 ? f_.slice : std::numeric_limits<std::size_t>::max();
  if (f_.bandwidth != 0) {
    // 10 ms of bandwidth per piece: small enough to pace smoothly, large enough that timer
    // slack stays small against the delay.
    piece = std::min<std::uint64_t>(piece, std::max<std::uint64_t>(1, f_.bandwidth / 100));
    // An idle connection earns no credit: a schedule that fell behind restarts now.
    time::Duration ignored;
    if (std::int64_t now = now_ns(); now > bandwidth_wait(0, &ignored)) {
      pace_origin_ns_ = now;
      paced_bytes_ = 0;
    }
  }
  std::size_t done = 0;
  while (done < data.size()) {
    std::size_t n = std::min(piece, data.size() - done);
    time::Duration gap{}, paced{};
    if (done != 0 && f_.slice_delay > time::Duration::zero()) {
      gap = f_.slice_delay;
      if (error e = wait(1, now_ns() + gap.count(), "write")) return {done, e};
    }
    if (f_.bandwidth != 0) {
      if (error e = wait(1, bandwidth_wait(n, &paced), "write")) return {done, e};
    }
    if (error e = check(1, "write")) return {done, e};
    auto [sent, werr] = write(data.subspan(done, n));
    done += sent;
    if (werr) return {done, map("write", werr)};
    if (f_.slice != 0) {
      observe({.kind = FaultKind::slice, .op = "write", .conn = ordinal_, .index = index,
               .delay = gap, .bytes = n});
    }
    if (f_.bandwidth != 0) {
      observe({.kind = FaultKind::bandwidth, .op = "write", .conn = ordinal_, .index = index,
               .delay = paced, .bytes = n});
    }
  }
  return {done, nullptr};
}

void ConnFaults::set_deadline(std::int64_t deadline_ns, int mode) {
  for (int dir = 0; dir < 2; ++dir) {
    if (!(mode & (dir == 0 ? rt::kPollRead : rt::kPollWrite))) continue;
    dirs_[dir].deadline_ns.store(deadline_ns, std::memory_order_seq_cst);
    wake(dir);
  }
}

void ConnFaults::closing() {
  closing_.store(true, std::memory_order_seq_cst);
  wake(0);
  wake(1);
}

void ConnFaults::slow_close() {
  if (f_.slow_close <= time::Duration::zero()) return;
  time::sleep(f_.slow_close);
  observe({.kind = FaultKind::slow_close, .op = "close", .conn = ordinal_, .delay = f_.slow_close});
}

}  // namespace detail

// ---- the API --------------------------------------------------------------------------------

void set_faults(const Faults& f) { detail::install(detail::default_faults(), f); }

Faults faults() {
  detail::Default& d = detail::default_faults();
  std::lock_guard lk(d.mu);
  return d.current;
}

void set_fault_observer(std::function<void(const FaultEvent&)> f) {
  detail::Observers& o = detail::observers();
  std::lock_guard lk(o.mu);
  o.current = f ? std::make_shared<const detail::Observer>(std::move(f)) : nullptr;
  o.on.store(o.current != nullptr, std::memory_order_release);
}

}  // namespace gocxx::net

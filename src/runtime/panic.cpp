// Panics (Go's panic.go): raising, recovering, running defer chains, and the entry points of
// the crash reports for unrecovered panics and fatal errors (the diag layer's crash reporter
// writes them: src/diag/crash.cpp, through hooks.hpp).
//
// A panic is a C++ exception (gocxx::Panic) whose PanicState records the value, the stack at
// the panic() call, whether it was recovered, and the panic that was unwinding when it was
// raised. Goroutine entry has no catch: an unrecovered panic or exception makes the unwinder's
// search reach the bottom of the goroutine stack, and std::terminate runs with the throwing
// frames still in place. Our terminate handler then prints Go's report and exits with status 2
// at once (no static destructors under goroutines that are still executing).
#include <cxxabi.h>
#include <execinfo.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "gocxx/defer.hpp"
#include "hooks.hpp"
#include "lockrank.hpp"
#include "panic.hpp"
#include "scheduler.hpp"

namespace gocxx::detail {

std::atomic<int> panic_frames_active{0};

struct PanicState {
  PanicValue value;
  std::vector<std::uintptr_t> stack;      // at the panic() call
  bool recovered = false;
  std::shared_ptr<PanicState> previous;   // the panic unwinding when this one was raised
};

namespace {

std::terminate_handler g_previous_terminate = nullptr;

// Where the calling thread was started, if it stands in for a goroutine
// (start_stand_in_thread): its reports say "created by" as a goroutine's do.
thread_local std::uintptr_t tls_stand_in_create_pc = 0;

// The PanicState of a gocxx panic in flight, or nullptr for any other exception.
PanicState* state_of(const std::exception_ptr& e) {
  if (!e) return nullptr;
  try {
    std::rethrow_exception(e);
  } catch (const Panic& p) {
    return &p.state();
  } catch (...) {
    return nullptr;
  }
}

// A C++ exception that is not a Panic has no PanicState to link the panic it replaced (Go
// prints both), and it must keep its type for outer C++ handlers. So the link is kept aside,
// one per goroutine or thread (keyed by its defer slot), naming the exception it belongs to.
// A record whose exception was caught by a C++ handler stays until the next one replaces it.
struct Replaced {
  std::exception_ptr by;                  // the exception raised while `previous` unwound
  std::shared_ptr<PanicState> previous;
};
RankedMutex<LockRank::kPanicReplaced> g_replaced_lock;
std::unordered_map<const void*, Replaced>& replaced_records() {
  static auto* records = new std::unordered_map<const void*, Replaced>;  // used until _Exit
  return *records;
}
const void* replaced_key() { return &defer_frame_slot(); }

// What `e` replaced, if it is the exception recorded for this goroutine; `forget` drops the
// record (e has been recovered).
std::shared_ptr<PanicState> replaced_by(const std::exception_ptr& e, bool forget = false) {
  std::lock_guard lk(g_replaced_lock);
  auto& records = replaced_records();
  auto it = records.find(replaced_key());
  if (it == records.end() || it->second.by != e) return nullptr;
  std::shared_ptr<PanicState> previous = it->second.previous;
  if (forget) records.erase(it);
  return previous;
}

// The chain of panics that ends with `e`: a Panic's own state (sharing ownership with the
// exception object that holds it), or a new one for a C++ exception.
std::shared_ptr<PanicState> chain_of(const std::exception_ptr& e) {
  if (PanicState* s = state_of(e)) {
    return std::shared_ptr<PanicState>(std::make_shared<std::exception_ptr>(e), s);
  }
  return std::make_shared<PanicState>(PanicState{PanicValue(e), {}, false, replaced_by(e)});
}

std::string describe(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
    const std::type_info* type = abi::__cxa_current_exception_type();
    if (!type) return "unknown C++ exception";
    int status = 0;
    char* name = abi::__cxa_demangle(type->name(), nullptr, nullptr, &status);
    std::string out = "unknown C++ exception of type " + std::string(name ? name : type->name());
    std::free(name);
    return out;
  }
}

[[noreturn]] void crash(const char* kind, const std::string& heading,
                        const std::vector<std::uintptr_t>& pcs, bool from_throw = false) {
  lock_rank_crashing();  // the report may take locks out of order; it ends the process
  hooks().crash(kind, heading, pcs, from_throw);
  std::_Exit(2);  // not reached: the crash reporter exits
}

// Go's heading for a chain of panics: "A [recovered]\n\tpanic: B".
std::string report(const PanicState& last) {
  std::vector<const PanicState*> chain;
  for (const PanicState* s = &last; s; s = s->previous.get()) chain.push_back(s);
  std::string out;
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    if (!out.empty()) out += "\n\tpanic: ";
    out += (*it)->value.message();
    if ((*it)->recovered) out += " [recovered]";
  }
  return out;
}

void on_terminate() {
  std::exception_ptr e = std::current_exception();
  if (PanicState* s = state_of(e)) crash("panic", report(*s), s->stack);
  std::shared_ptr<PanicState> previous = e ? replaced_by(e) : nullptr;
  if (!current_g() && !tls_stand_in_create_pc && !previous) {
    // A plain thread's own exception: not ours to report.
    if (g_previous_terminate) g_previous_terminate();
    std::abort();
  }
  std::vector<std::uintptr_t> pcs = capture_stack(1);
  if (!e) crash("panic", "std::terminate called without an active exception", pcs, true);
  crash("panic", report(PanicState{PanicValue(e), {}, false, std::move(previous)}), pcs, true);
}

}  // namespace

void install_terminate_handler() {
  static std::once_flag once;
  std::call_once(once, [] { g_previous_terminate = std::set_terminate(on_terminate); });
}

void raise_panic(PanicValue value) {
  install_terminate_handler();  // also on plain threads that never called gocxx::run
  auto state = std::make_shared<PanicState>(PanicState{std::move(value), {}, false, nullptr});
  state->stack = capture_stack(1);
  throw Panic(std::move(state));
}

void throw_panic(const char* message) { raise_panic(PanicValue(std::string(message))); }

void fatal(const char* message) { crash("fatal error", message, capture_stack(1)); }

void fatal_with_dump(const std::string& heading) {
  lock_rank_crashing();
  hooks().crash_with_dump(heading);
  std::_Exit(2);  // not reached: the crash reporter exits
}

// Not inlined: `skip` counts the frames above this one.
[[gnu::noinline]] std::vector<std::uintptr_t> capture_stack(int skip) {
  void* raw[128];
  int n = backtrace(raw, 128);
  std::vector<std::uintptr_t> pcs;
  for (int i = skip + 1; i < n; ++i) pcs.push_back(reinterpret_cast<std::uintptr_t>(raw[i]));
  return pcs;
}

std::uintptr_t stand_in_create_pc() { return tls_stand_in_create_pc; }

[[gnu::noinline]] void start_stand_in_thread(std::function<void()> f) {
  auto create_pc = reinterpret_cast<std::uintptr_t>(__builtin_return_address(0));
  std::thread([f = std::move(f), create_pc] {
    tls_stand_in_create_pc = create_pc;
    f();
  }).detach();
}

void chain_panics(const std::exception_ptr& previous, const std::exception_ptr& next) {
  if (PanicState* now = state_of(next)) {
    if (!now->previous) now->previous = chain_of(previous);
    return;
  }
  std::shared_ptr<PanicState> chain = chain_of(previous);  // what `previous` replaced, too
  std::lock_guard lk(g_replaced_lock);
  Replaced& record = replaced_records()[replaced_key()];
  if (record.by != next) record = Replaced{next, std::move(chain)};
}

bool is_recovered(const std::exception_ptr& pending) {
  PanicState* s = state_of(pending);
  return s && s->recovered;
}

}  // namespace gocxx::detail

namespace gocxx {

std::string PanicValue::describe_exception(const std::exception_ptr& e) {
  return e ? detail::describe(e) : "nil exception";
}

// Go's runtime printfloat, step for step (its rounding differs from printf's "%+.6e"): seven
// significant digits and a three-digit exponent, "+1.500000e+000".
std::string PanicValue::describe_float(double v) {
  if (v != v) return "NaN";
  if (v + v == v && v > 0) return "+Inf";
  if (v + v == v && v < 0) return "-Inf";
  constexpr int n = 7;  // digits printed
  char buf[n + 7];
  buf[0] = '+';
  int e = 0;  // exponent
  if (v == 0) {
    if (std::signbit(v)) buf[0] = '-';
  } else {
    if (v < 0) {
      v = -v;
      buf[0] = '-';
    }
    while (v >= 10) {  // normalize
      ++e;
      v /= 10;
    }
    while (v < 1) {
      --e;
      v *= 10;
    }
    double h = 5.0;  // round
    for (int i = 0; i < n; ++i) h /= 10;
    v += h;
    if (v >= 10) {
      ++e;
      v /= 10;
    }
  }
  for (int i = 0; i < n; ++i) {  // +d.dddddd
    int digit = static_cast<int>(v);
    buf[i + 2] = static_cast<char>(digit + '0');
    v -= digit;
    v *= 10;
  }
  buf[1] = buf[2];
  buf[2] = '.';
  buf[n + 2] = 'e';
  buf[n + 3] = '+';
  if (e < 0) {
    e = -e;
    buf[n + 3] = '-';
  }
  buf[n + 4] = static_cast<char>(e / 100 + '0');
  buf[n + 5] = static_cast<char>(e / 10 % 10 + '0');
  buf[n + 6] = static_cast<char>(e % 10 + '0');
  return std::string(buf, sizeof buf);
}

const PanicValue& Panic::value() const { return state_->value; }

std::string Panic::report() const { return detail::report(*state_); }

const std::vector<std::uintptr_t>& Panic::stack() const { return state_->stack; }

std::optional<PanicValue> recover() {
  detail::DeferFrame* frame = detail::defer_frame_slot();
  if (!frame || !frame->pending || !*frame->pending) return std::nullopt;
  std::exception_ptr& pending = *frame->pending;
  if (detail::PanicState* s = detail::state_of(pending)) {
    if (s->recovered) return std::nullopt;
    s->recovered = true;
    return s->value;
  }
  // A C++ exception unwinding like a panic: recovering it ends it. Until this deferred call
  // returns it stays pending as a recovered Panic, so that a panic raised next prints it as
  // "A [recovered]", as for a panic.
  auto state = std::make_shared<detail::PanicState>(
      detail::PanicState{PanicValue(pending), {}, true, detail::replaced_by(pending, true)});
  PanicValue value = state->value;
  pending = std::make_exception_ptr(Panic(std::move(state)));
  return value;
}

void Defer::finish_panicking(std::exception_ptr pending) {
  detail::DeferFrame*& slot = detail::defer_frame_slot();
  detail::panic_frames_active.fetch_add(1, std::memory_order_relaxed);
  struct Leave {
    ~Leave() { detail::panic_frames_active.fetch_sub(1, std::memory_order_relaxed); }
  } leave;
  while (top_) {
    Node* n = pop();
    detail::DeferFrame frame{pending ? &pending : nullptr, slot};
    slot = &frame;
    try {
      n->run(n);
    } catch (...) {
      // A panic in a deferred call replaces the one unwinding (Go prints both).
      std::exception_ptr next = std::current_exception();
      if (pending) detail::chain_panics(pending, next);
      pending = next;
    }
    slot = frame.outer;
    if (n->destroy) n->destroy(n);
    if (pending && detail::is_recovered(pending)) pending = nullptr;
  }
  if (pending) std::rethrow_exception(pending);
}

void Defer::discard() noexcept {
  while (top_) {
    Node* n = pop();
    if (n->destroy) n->destroy(n);
  }
}

}  // namespace gocxx

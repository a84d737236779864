// defer, panic and recover — Go's semantics in C++.
//
//   int safe_div(int a, int b) {
//     int result = 0;                          // a "named result" the deferred call may set
//     gocxx::func([&](gocxx::Defer& defer) {
//       defer([&] {                            // closure: sees variables as they are at exit
//         if (auto p = gocxx::recover()) result = -1;
//       });
//       result = a / checked(b);               // checked() calls gocxx::panic on b == 0
//     });
//     return result;
//   }
//
// gocxx::func(body) runs body with a defer chain. Deferred calls run LIFO when body returns or
// when a panic unwinds through it. defer(f, args...) evaluates args now (Go's `defer f(x)`);
// defer(closure) reads captured variables when it runs.
//
// Lifetime rule: deferred calls run after the body lambda has returned, when its own local
// variables are gone. So a deferred closure captures body locals by value (or use
// defer(f, local)); a variable it must read *at exit* by reference is declared outside the body,
// exactly like Go's named results (`result` above). A deferred call that calls recover()
// stops the panic: func then returns normally (a value-returning body yields R{}; use a
// captured variable as Go's named result). Uncaught, a panic ends the program with Go's report.
//
// Panics are C++ exceptions of type gocxx::Panic, deliberately not derived from std::exception,
// so `catch (const std::exception&)` does not swallow them; destructors run as they unwind. A
// C++ exception unwinding through func is treated as a panic too (recover() returns it).
#pragma once

#include <any>
#include <atomic>
#include <complex>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <new>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include "gocxx/errors.hpp"

namespace gocxx {

// The value of a panic (Go's panic(v) for any v), as recover() returns it.
class PanicValue {
 public:
  template <class T>
    requires(!std::is_same_v<std::decay_t<T>, PanicValue>)
  explicit PanicValue(T&& value) : value_(std::forward<T>(value)) {
    message_ = describe(*std::any_cast<std::decay_t<T>>(&value_));
  }

  const std::any& value() const { return value_; }
  // How Go prints it after "panic: ": a string as is, an error's Error(), a number as Go's
  // print does (floats "+1.500000e+000", "NaN", "+Inf"; complex numbers "(re im i)" alike).
  // Other types: their operator<<, else the type's name.
  const std::string& message() const { return message_; }
  template <class T>
  const T* as() const {
    return std::any_cast<T>(&value_);
  }

 private:
  template <class T>
  static std::string describe(const T& v) {
    using D = std::decay_t<T>;
    if constexpr (std::is_convertible_v<const D&, std::string_view>) {
      return std::string(std::string_view(v));
    } else if constexpr (std::is_same_v<D, error> || std::is_base_of_v<ErrorBase, D>) {
      return v.message();
    } else if constexpr (std::is_same_v<D, bool>) {
      return v ? "true" : "false";
    } else if constexpr (std::is_floating_point_v<D>) {
      return describe_float(static_cast<double>(v));
    } else if constexpr (is_complex<D>::value) {
      return "(" + describe_float(static_cast<double>(v.real())) +
             describe_float(static_cast<double>(v.imag())) + "i)";
    } else if constexpr (std::is_integral_v<D> && !std::is_same_v<D, char>) {
      // Go's integers, bytes and runes print as numbers; C++'s `char` is text and stays one.
      return std::to_string(v);
    } else if constexpr (std::is_base_of_v<std::exception, D>) {
      return v.what();
    } else if constexpr (std::is_same_v<D, std::exception_ptr>) {
      return describe_exception(v);
    } else if constexpr (requires(std::ostream& o) { o << v; }) {
      std::ostringstream out;
      out << v;
      return out.str();
    } else {
      return std::string("(") + typeid(D).name() + ") value";
    }
  }
  static std::string describe_exception(const std::exception_ptr& e);
  // Go's print(float64): "+d.dddddde+ddd".
  static std::string describe_float(double v);
  template <class T>
  struct is_complex : std::false_type {};
  template <class T>
  struct is_complex<std::complex<T>> : std::true_type {};

  std::any value_;
  std::string message_;
};

namespace detail {
struct PanicState;
struct DeferFrame;
}  // namespace detail

// The exception that carries a panic. Catch it only to let it continue (`throw;`): a panic is
// stopped by recover() in a deferred call, not by catch.
class Panic {
 public:
  explicit Panic(std::shared_ptr<detail::PanicState> state) : state_(std::move(state)) {}
  const PanicValue& value() const;
  // Go's report heading: "A [recovered]\n\tpanic: B" for a panic raised while another unwound.
  std::string report() const;
  // Return addresses at the gocxx::panic call, innermost first (for logging a recovered panic
  // with its stack, as Go's http server does; diag formats them).
  const std::vector<std::uintptr_t>& stack() const;
  detail::PanicState& state() const { return *state_; }

 private:
  std::shared_ptr<detail::PanicState> state_;
};

namespace detail {
[[noreturn]] void raise_panic(PanicValue value);
}  // namespace detail

// Go's panic(v): unwinds the goroutine running deferred calls; unrecovered, prints
// "panic: <v>" with the goroutine's stack and exits with status 2.
template <class T>
[[noreturn]] void panic(T&& value) {
  if constexpr (std::is_convertible_v<const std::decay_t<T>&, std::string_view> &&
                !std::is_same_v<std::decay_t<T>, std::string>) {
    detail::raise_panic(PanicValue(std::string(std::string_view(value))));
  } else {
    detail::raise_panic(PanicValue(std::forward<T>(value)));
  }
}

// Go's recover(): inside a deferred call run because of a panic, stops the panic and returns
// its value; anywhere else (or a second time) returns std::nullopt. As in Go, the deferred call
// must call it: recover as the deferred function itself (`defer(gocxx::recover)`, Go's
// `defer recover()`) and recover in the body of a gocxx::func that the deferred call runs
// return nothing. Unlike Go, a plain function that the deferred call calls does recover: only
// func scopes are visible to gocxx, not C++ call frames.
std::optional<PanicValue> recover();

namespace detail {

// The deferred call running now on this goroutine (or thread), innermost first. func() bodies
// push a frame without a panic, so recover() there returns nothing, as in Go.
struct DeferFrame {
  std::exception_ptr* pending;  // the panic being unwound, or nullptr
  DeferFrame* outer;
};
// This goroutine's slot (in its G, so it stays right when the goroutine migrates), or the plain
// thread's.
DeferFrame*& defer_frame_slot();
// Deferred calls running for a panic right now, process-wide. While it is zero no goroutine can
// be inside such a call, so func() need not mask recover() for its body (the common case
// skips the slot lookup entirely).
extern std::atomic<int> panic_frames_active;
// Records that `next` (now in flight) was raised while `previous` was unwinding.
void chain_panics(const std::exception_ptr& previous, const std::exception_ptr& next);
bool is_recovered(const std::exception_ptr& pending);

}  // namespace detail

// A function scope's defer chain (Go's _defer list). Calls are stored in an inline buffer, so
// the common forms allocate nothing; large or numerous calls spill to the heap.
class Defer {
 public:
  Defer() = default;
  Defer(const Defer&) = delete;
  Defer& operator=(const Defer&) = delete;
  ~Defer() {
    if (top_) discard();
  }

  // defer f(): a closure reads its captures when it runs.
  template <class F>
  void operator()(F&& f) {
    if constexpr (std::is_same_v<std::decay_t<F>, decltype(&recover)>) {
      // Go's `defer recover()`: recover is then the deferred function itself, not called by
      // one, so it returns nil and the panic goes on. Deferring it does nothing at all.
      if (f == &recover) return;
    }
    push(std::forward<F>(f));
  }
  // defer f(args...): the arguments are evaluated (copied) now, as Go evaluates them.
  template <class F, class A0, class... As>
  void operator()(F&& f, A0&& a0, As&&... as) {
    push([fn = std::forward<F>(f), args = std::make_tuple(std::forward<A0>(a0),
                                                          std::forward<As>(as)...)]() mutable {
      std::apply(fn, std::move(args));
    });
  }

  // Runs the deferred calls LIFO at a normal return. If one panics, stops and lets it escape
  // (the caller then continues with unwind()).
  void run_normally() {
    if (!top_) return;
    // The first call apart: it is usually the last one pushed, in the same inlined function, so
    // the compiler sees which it is and calls it directly (often the only one: Go's open-coded
    // defer). The loop's calls stay indirect.
    run_top();
    while (top_) run_top();
  }

  // Runs the remaining deferred calls LIFO while `pending` (a panic in flight) unwinds, then
  // rethrows the panic still in flight, or returns if a deferred call recovered it.
  void finish_panicking(std::exception_ptr pending);

 private:
  struct Node {
    Node* prev;
    void (*run)(Node*);
    void (*destroy)(Node*) noexcept;  // null: nothing to do (a trivial call in the inline buffer)
  };
  template <class C>
  struct Holder : Node {
    C call;
  };

  template <class F>
  void push(F&& f) {
    using C = std::decay_t<F>;
    using H = Holder<C>;
    void* memory = nullptr;
    bool on_heap = false;
    std::size_t start = (used_ + alignof(H) - 1) & ~(alignof(H) - 1);
    if (alignof(H) <= alignof(std::max_align_t) && start + sizeof(H) <= kInlineBytes) {
      memory = storage_ + start;
      used_ = start + sizeof(H);
    } else {
      memory = ::operator new(sizeof(H), std::align_val_t(alignof(H)));
      on_heap = true;
    }
    H* h;
    try {
      // Trivially destructible calls in the inline buffer need no destroy step at all.
      void (*destroy)(Node*) noexcept = on_heap ? &delete_node<H>
                                        : std::is_trivially_destructible_v<C> ? nullptr
                                                                              : &destroy_node<H>;
      h = ::new (memory) H{{top_, &run_node<H>, destroy}, C(std::forward<F>(f))};
    } catch (...) {
      if (on_heap) ::operator delete(memory, std::align_val_t(alignof(H)));
      throw;
    }
    top_ = h;
  }

  template <class H>
  static void run_node(Node* n) {
    static_cast<H*>(n)->call();
  }
  template <class H>
  static void destroy_node(Node* n) noexcept {
    static_cast<H*>(n)->~H();
  }
  template <class H>
  static void delete_node(Node* n) noexcept {
    static_cast<H*>(n)->~H();
    ::operator delete(static_cast<void*>(n), std::align_val_t(alignof(H)));
  }
  Node* pop() {
    Node* n = top_;
    top_ = n->prev;
    return n;
  }
  [[gnu::always_inline]] void run_top() {
    Node* n = pop();
    // Read before the call, which the compiler must assume changes memory: for the first call
    // it then knows that a trivial one has nothing to destroy.
    struct Destroy {
      Node* n;
      void (*destroy)(Node*) noexcept;
      ~Destroy() {
        if (destroy) destroy(n);
      }
    } destroy{n, n->destroy};
    n->run(n);
  }
  void discard() noexcept;

  static constexpr std::size_t kInlineBytes = 256;
  Node* top_ = nullptr;
  std::size_t used_ = 0;
  alignas(std::max_align_t) unsigned char storage_[kInlineBytes];
};

namespace detail {

// While it lives, recover() on this goroutine returns nothing: a func() body running inside a
// deferred call must not stop the panic unwinding around it. Empty when not kActive.
template <bool kActive>
struct RecoverMask {};
template <>
struct RecoverMask<true> {
  DeferFrame*& slot = defer_frame_slot();
  DeferFrame frame{nullptr, slot};
  RecoverMask() { slot = &frame; }
  ~RecoverMask() { slot = frame.outer; }
  RecoverMask(const RecoverMask&) = delete;
  RecoverMask& operator=(const RecoverMask&) = delete;
};

// func's body: body(defer) and the deferred calls, under a RecoverMask<kMasked>.
//
// The deferred calls of a panic run after the catch block has ended, never inside it: a
// deferred call may block, and a goroutine that parks inside a handler could resume on another
// thread, whose C++ runtime keeps its own stack of caught exceptions.
template <bool kMasked, class F, class R = std::invoke_result_t<F&, Defer&>>
[[gnu::always_inline]] inline R run_func(F& body) {
  Defer defer;
  // The panic in flight, set only in the handler. A union, so that the normal return (inside
  // the try block) destroys nothing; finish_panicking takes it over (leaving it null).
  union Pending {
    Pending() {}
    ~Pending() {}
    std::exception_ptr e;
  } pending;
  try {
    [[maybe_unused]] RecoverMask<kMasked> mask;
    if constexpr (std::is_void_v<R>) {
      body(defer);
      defer.run_normally();
      return;
    } else {
      R result = body(defer);
      defer.run_normally();
      return result;
    }
  } catch (...) {  // a panic, or a C++ exception treated as one
    ::new (&pending.e) std::exception_ptr(std::current_exception());
  }
  defer.finish_panicking(std::move(pending.e));
  if constexpr (!std::is_void_v<R>) return R{};  // recovered: Go's zero value for an unnamed result
}

// The rare case, kept out of line so that it costs the common one nothing.
template <class F, class R = std::invoke_result_t<F&, Defer&>>
[[gnu::noinline]] R run_func_masked(F& body) {
  return run_func<true>(body);
}

}  // namespace detail

// Runs body(defer) as a function scope with a defer chain; see the top of this file.
template <class F>
auto func(F&& body) -> std::invoke_result_t<F&, Defer&> {
  // While no deferred call runs for a panic anywhere, recover() has nothing to mask; otherwise
  // this may be inside such a call (see panic_frames_active).
  if (detail::panic_frames_active.load(std::memory_order_relaxed) == 0) [[likely]] {
    return detail::run_func<false>(body);
  }
  return detail::run_func_masked(body);
}

}  // namespace gocxx

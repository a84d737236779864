// gocxx::context — Go's package context: cancellation, deadlines and request-scoped values.
//
//   auto [ctx, cancel] = gocxx::context::with_timeout(gocxx::context::background(), 2s);
//   gocxx::go([ctx = ctx] {
//     gocxx::select(gocxx::recv_case(ctx.done(), [&] { /* ctx.err(): canceled or deadline */ }),
//                   gocxx::recv_case(work, [](auto v) { /* ... */ }));
//   });
//   cancel();                                  // idempotent, safe from any goroutine or thread
//
// A Context is a cheap, copyable handle (a shared pointer) to an immutable node of a tree rooted
// at background() or todo(). Cancelling a context cancels every context derived from it;
// cancelling a derived context never touches its parent.
//
// Lifetime (RAII, where Go relies on its garbage collector): a derived context lives while a
// Context handle to it, its cancel function, or a context derived from it exists. When the last
// of them is gone the context unregisters from its parent and stops its deadline timer, so a
// context whose cancel function was never called leaks neither timers nor goroutines. Nothing in
// this package starts a goroutine except after_func's f and a deadline firing (one short-lived
// goroutine each).
//
// Values are looked up with typed keys compared by identity (Go's unexported key types):
//
//   inline constexpr gocxx::context::Key<std::string> request_id{"request-id"};
//   auto ctx = gocxx::context::with_value(parent, request_id, "r-42");
//   if (const std::string* id = ctx.value(request_id)) use(*id);   // nullptr: not set
//
// The pointer stays valid while a handle to `ctx` (or a context derived from it) exists.
// See docs/context.md for the design.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

#include "gocxx/chan.hpp"
#include "gocxx/errors.hpp"
#include "gocxx/time.hpp"

namespace gocxx::context {

// The error type of deadline_exceeded. Like Go's, it reports itself as a timeout, so
// errors::as<context::DeadlineExceededError>(err) identifies timeouts in wrapped errors too.
class DeadlineExceededError final : public ErrorBase {
 public:
  std::string message() const override { return "context deadline exceeded"; }
  bool timeout() const { return true; }
  bool temporary() const { return true; }
};

// Go's context.Canceled: ctx.err() after a cancel function was called.
inline const error canceled = errors::make("context canceled");
// Go's context.DeadlineExceeded: ctx.err() after the deadline passed.
inline const error deadline_exceeded = errors::make_as<DeadlineExceededError>();

// A key for with_value / Context::value. Keys compare by identity (the object's address), so two
// packages can never collide; T is the type of the value stored under the key. Define keys as
// namespace-scope (inline) constants; a Key is neither copyable nor movable.
template <class T>
class Key {
 public:
  constexpr explicit Key(const char* name = "context.Key") : name_(name) {}
  Key(const Key&) = delete;
  Key& operator=(const Key&) = delete;
  // Used by Context::string() only.
  constexpr const char* name() const { return name_; }

 private:
  const char* name_;
};

class Context;

namespace detail {

class Node;
class CancelNode;
class AfterFuncEntry;
struct Access;

using DescribeFn = std::string (*)(const void*);

// How Context::string() prints a value (Go's stringify).
template <class T>
std::string describe_value(const void* p) {
  const T& v = *static_cast<const T*>(p);
  if constexpr (std::is_convertible_v<const T&, std::string_view>) {
    return std::string(std::string_view(v));
  } else if constexpr (requires(std::ostream& o) { o << v; }) {
    std::ostringstream out;
    out << v;
    return out.str();
  } else {
    return "<not printable>";
  }
}

Context with_value(const Context& parent, const void* key, const char* key_name,
                   std::shared_ptr<const void> value, DescribeFn describe);

// Test hook: how many registrations (derived contexts, after_func callbacks) the cancellable
// context nearest to ctx holds. 0 for contexts that can never be cancelled.
std::size_t registered_children(const Context& ctx);

}  // namespace detail

// Go's context.Context. A default-constructed Context is nil (Go's nil Context): deriving from it
// panics ("cannot create context from nil parent"), and so do its methods.
class Context {
 public:
  Context() = default;

  explicit operator bool() const noexcept { return node_ != nullptr; }

  // A channel closed when the context is cancelled or its deadline passes. For contexts that can
  // never be cancelled (background(), todo(), without_cancel) it is the nil channel, which a
  // select never chooses. Successive calls return the same channel. Receive-only, as Go's
  // <-chan struct{}: only the context's cancellation closes it.
  RecvChan<std::monostate> done() const;
  // nil while done() is open; afterwards `canceled` or `deadline_exceeded`.
  error err() const;
  // The time at which the context will be cancelled, if any (the earliest along the chain).
  std::optional<time::TimePoint> deadline() const;
  // The value stored under `key` by the nearest with_value in the chain, or nullptr.
  template <class T>
  const T* value(const Key<T>& key) const {
    return static_cast<const T*>(find_value(&key));
  }
  // A description of the chain, as Go's fmt prints a Context:
  // "context.Background.WithCancel.WithValue(request-id, r-42)".
  std::string string() const;

  // Identity: two handles to the same context.
  friend bool operator==(const Context& a, const Context& b) { return a.node_ == b.node_; }
  friend std::ostream& operator<<(std::ostream& out, const Context& c) {
    return out << (c ? c.string() : std::string("<nil>"));
  }

 private:
  friend struct detail::Access;
  const void* find_value(const void* key) const;
  std::shared_ptr<detail::Node> node_;
};

// Go's CancelFunc. Calling it cancels the context (err() becomes `canceled`) and all contexts
// derived from it, and releases the context's timer and its registration with its parent. It
// is idempotent and safe to call concurrently from any goroutine or thread. A copy keeps the
// context alive; a default-constructed CancelFunc does nothing.
class CancelFunc {
 public:
  CancelFunc() = default;
  void operator()() const;
  explicit operator bool() const noexcept { return node_ != nullptr; }

 private:
  friend struct detail::Access;
  std::shared_ptr<detail::CancelNode> node_;
};

// Go's CancelCauseFunc: like CancelFunc, and records `cause` for context::cause() (a nil cause
// records `canceled`). Only the first call has an effect.
class CancelCauseFunc {
 public:
  CancelCauseFunc() = default;
  void operator()(error cause = nullptr) const;
  explicit operator bool() const noexcept { return node_ != nullptr; }

 private:
  friend struct detail::Access;
  std::shared_ptr<detail::CancelNode> node_;
};

// after_func's stop function: true if it stopped f from being run, false if f has already been
// started (or stop was already called). It does not wait for a running f to finish.
class StopFunc {
 public:
  StopFunc() = default;
  bool operator()() const;

 private:
  friend struct detail::Access;
  std::shared_ptr<detail::AfterFuncEntry> entry_;
};

// The root of every context tree: never cancelled, no values, no deadline.
Context background();
// Like background(), for code that has not decided which context to use yet.
Context todo();

// A child of parent with its own cancel function.
std::pair<Context, CancelFunc> with_cancel(const Context& parent);
namespace detail {
// with_cancel, plus `on_first_use`, run once the first time the context is observed: done(),
// err(), cause(), or a derived context or after_func registering with it (not value() or
// deadline()). It runs under the context's lock, so it must not use the context, and never
// after the context is cancelled: cancelling waits for a call in progress. gocxx::http uses it
// to watch for a client's disconnect only while a handler looks at its request's context.
std::pair<Context, CancelFunc> with_cancel_on_first_use(const Context& parent,
                                                        std::function<void()> on_first_use);
}  // namespace detail

// A child whose cancel function records a cause (Go 1.20's WithCancelCause).
std::pair<Context, CancelCauseFunc> with_cancel_cause(const Context& parent);
// A child cancelled at `deadline` (err: deadline_exceeded) or by its cancel function. A deadline
// later than the parent's adds no timer: the parent's deadline comes first. A deadline in the
// past gives a context that is already done.
std::pair<Context, CancelFunc> with_deadline(const Context& parent, time::TimePoint deadline);
// As with_deadline; when the deadline passes, cause(ctx) is `cause` (nil: deadline_exceeded).
std::pair<Context, CancelFunc> with_deadline_cause(const Context& parent, time::TimePoint deadline,
                                                   error cause);
// with_deadline(parent, now + timeout).
std::pair<Context, CancelFunc> with_timeout(const Context& parent, time::Duration timeout);
std::pair<Context, CancelFunc> with_timeout_cause(const Context& parent, time::Duration timeout,
                                                  error cause);

// A child carrying `value` (converted to T) under `key`; lookups of other keys go to the parent.
template <class T, class V>
Context with_value(const Context& parent, const Key<T>& key, V&& value) {
  static_assert(std::is_constructible_v<T, V&&>, "with_value: the value must convert to Key<T>'s T");
  return detail::with_value(parent, &key, key.name(),
                            std::shared_ptr<const void>(std::make_shared<T>(std::forward<V>(value))),
                            &detail::describe_value<T>);
}

// A child that keeps parent's values but is never cancelled (Go 1.21): done() is nil, err() and
// cause() are nil, no deadline — whatever happens to parent.
Context without_cancel(const Context& parent);

// Arranges for f to run in its own goroutine once ctx is done (at once if it already is). The
// registration lives as long as ctx does: if every handle to ctx and to its cancel function is
// released before ctx is done, f never runs (see docs/context.md). Outside gocxx::run f runs on
// a new thread.
StopFunc after_func(const Context& ctx, std::function<void()> f);

// Go's context.Cause: why ctx was cancelled. nil while ctx is not done; otherwise the cause
// given to a CancelCauseFunc (or with_*_cause), else ctx.err(). Derived contexts report the
// cause of the cancellation that reached them.
error cause(const Context& ctx);

}  // namespace gocxx::context

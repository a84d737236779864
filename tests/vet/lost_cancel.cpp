// gocxx-lost-cancel: golden input (the default, EscapingOnly: true).
#include <gocxx/gocxx.hpp>

#include <tuple>

using namespace std::chrono_literals;
namespace context = gocxx::context;

inline constexpr context::Key<int> request_id{"request-id"};

// The context goes to a goroutine that outlives the function; the early return skips cancel.
gocxx::error bad_early_return(const context::Context& parent, bool fail) {
  auto [ctx, cancel] = context::with_timeout(parent, 5s);
  gocxx::go([ctx = ctx] { ctx.done().recv(); });
  if (fail) return gocxx::errors::make("failed");
  cancel();
  return nullptr;
}

// Only the context is kept, and a goroutine keeps it.
void bad_discarded(const context::Context& parent) {
  auto ctx = context::with_cancel(parent).first;
  gocxx::go([ctx = ctx] { ctx.done().recv(); });
}

// Returned to the caller, with no way to cancel it.
context::Context bad_returned(const context::Context& parent) {
  auto [ctx, cancel] = context::with_deadline(parent, gocxx::time::now() + 1s);
  return ctx;
}

// A context derived from it escapes.
void bad_derived(const context::Context& parent) {
  auto [ctx, cancel] = context::with_cancel_cause(parent);
  auto child = context::with_value(ctx, request_id, 42);
  gocxx::go([child] { child.done().recv(); });
}

// std::tie, and (void) is not a use.
void bad_tie(const context::Context& parent) {
  context::Context ctx;
  context::CancelFunc cancel;
  std::tie(ctx, cancel) = context::with_cancel(parent);
  gocxx::go([ctx = ctx] { ctx.done().recv(); });
  (void)cancel;
}

// Called on every path.
void ok_called(const context::Context& parent, bool fail) {
  auto [ctx, cancel] = context::with_timeout(parent, 1s);
  gocxx::go([ctx = ctx] { ctx.done().recv(); });
  if (fail) {
    cancel();
    return;
  }
  cancel();
}

// Deferred (Go's defer cancel()).
void ok_deferred(const context::Context& parent) {
  gocxx::func([&](gocxx::Defer& defer) {
    auto [ctx, cancel] = context::with_timeout(parent, 1s);
    defer(cancel);
    gocxx::go([ctx = ctx] { ctx.done().recv(); });
  });
}

// Handed to the caller, who cancels.
std::pair<context::Context, context::CancelFunc> ok_handed_on(const context::Context& parent) {
  return context::with_cancel(parent);
}

// The goroutine that keeps the context is joined: the context dies with the function (RAII).
void ok_joined(const context::Context& parent) {
  auto [ctx, cancel] = context::with_timeout(parent, 1s);
  gocxx::Chan<bool> done;
  gocxx::go([ctx = ctx, done]() mutable { done.send(ctx.err() == nullptr); });
  done.recv();
}

// Used only here: released with its last handle, nothing leaks.
bool ok_local(const context::Context& parent) {
  auto [ctx, cancel] = context::with_timeout(parent, 1s);
  return ctx.err() == nullptr;
}

// A path that panics is not followed.
void ok_panic(const context::Context& parent, bool bad) {
  auto [ctx, cancel] = context::with_cancel(parent);
  gocxx::go([ctx = ctx] { ctx.done().recv(); });
  if (bad) gocxx::panic("bad");
  cancel();
}

// NOLINT is honoured.
void suppressed(const context::Context& parent) {
  auto [ctx, cancel] = context::with_cancel(parent);  // NOLINT(gocxx-lost-cancel)
  gocxx::go([ctx = ctx] { ctx.done().recv(); });
}

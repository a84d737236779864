// gocxx::errgroup — golang.org/x/sync/errgroup: a group of goroutines working on subtasks of a
// common task, with error propagation, cancellation and an optional concurrency limit.
//
//   auto [g, ctx] = gocxx::errgroup::with_context(gocxx::context::background());
//   for (const Task& task : tasks) {
//     g.go([&task, ctx = ctx]() -> gocxx::error { return process(ctx, task); });
//   }
//   if (gocxx::error err = g.wait()) { /* the first error; ctx was cancelled by it */ }
//
// Functions passed to go()/try_go() return a gocxx::error (nil on success). wait() blocks until
// every function has returned and returns the first non-nil error.
//
// Panics: a gocxx::panic (or any C++ exception) escaping a group function is captured, the first
// one is kept, the group's context is cancelled, and wait() rethrows it in the waiting goroutine
// once all functions have returned — so an unrecovered panic still ends the program with Go's
// report (the stack is the one at the panic), and recover() around wait() sees the original
// value. A panic that nobody wait()s for is lost, as in Go.
#pragma once

#include <exception>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

#include "gocxx/chan.hpp"
#include "gocxx/context.hpp"
#include "gocxx/errors.hpp"
#include "gocxx/runtime.hpp"

namespace gocxx::errgroup {

namespace detail {

struct GroupState;
std::shared_ptr<GroupState> make_state();
// Takes a slot when a limit is set (blocking, or failing if !block) and counts a new member.
// `token` receives the semaphore the slot was taken from (nil when unlimited).
bool enter(GroupState& s, bool block, Chan<std::monostate>& token);
// A member finished: records its error or panic (the first one of each wins), cancels the
// group's context on the first of them, frees the slot and uncounts the member.
void leave(GroupState& s, error err, std::exception_ptr panic,
           const Chan<std::monostate>& token) noexcept;

}  // namespace detail

class Group;
std::pair<Group, context::Context> with_context(const context::Context& parent);

// Go's errgroup.Group. A default-constructed Group is ready to use, has no limit, and cancels
// nothing on error. Not copyable (as Go's must not be copied); movable, but a moved-from Group
// must not be used. Destroying a Group does not wait: running functions keep its state alive.
class Group {
 public:
  Group();
  Group(Group&&) noexcept = default;
  Group& operator=(Group&&) noexcept = default;
  Group(const Group&) = delete;
  Group& operator=(const Group&) = delete;
  ~Group() = default;

  // Runs f() in a new goroutine. With a limit set, blocks until a slot is free. The first
  // non-nil error cancels the group's context (with_context) and is what wait() returns.
  template <class F>
  void go(F&& f) {
    start(std::forward<F>(f), true);
  }

  // Runs f() in a new goroutine only if the limit allows it now; false otherwise.
  template <class F>
  bool try_go(F&& f) {
    return start(std::forward<F>(f), false);
  }

  // Limits the group to n active goroutines (negative: no limit; 0 blocks every go()). As in
  // Go, changing a limit while goroutines hold slots of the current one panics.
  void set_limit(int n);

  // Blocks until all functions started with go()/try_go() have returned, cancels the group's
  // context, then rethrows the first captured panic if any, else returns the first error.
  error wait();

 private:
  friend std::pair<Group, context::Context> with_context(const context::Context& parent);

  template <class F>
  bool start(F&& f, bool block) {
    using Fn = std::decay_t<F>;
    static_assert(std::is_invocable_r_v<error, Fn&>,
                  "errgroup::Group::go: f must be callable with no arguments and return an error");
    detail::GroupState& s = state();
    Chan<std::monostate> token = Chan<std::monostate>::nil();
    if (!detail::enter(s, block, token)) return false;
    try {
      gocxx::go([st = state_, token, fn = std::optional<Fn>(std::forward<F>(f))]() mutable {
        error err;
        std::exception_ptr panic;
        try {
          err = (*fn)();
        } catch (...) {
          panic = std::current_exception();  // a gocxx::Panic or any C++ exception
        }
        fn.reset();  // f's captures die before wait() can return, as they would in Go
        detail::leave(*st, std::move(err), std::move(panic), token);
      });
    } catch (...) {
      detail::leave(s, nullptr, nullptr, token);  // the goroutine never started
      throw;
    }
    return true;
  }

  detail::GroupState& state() const;

  std::shared_ptr<detail::GroupState> state_;
};

// Go's errgroup.WithContext: a new Group and a context derived from parent that is cancelled
// (context::cause() = the error) the first time a function returns a non-nil error or panics,
// or when wait() returns, whichever happens first.
std::pair<Group, context::Context> with_context(const context::Context& parent);

}  // namespace gocxx::errgroup

// gocxx::errgroup (golang.org/x/sync/errgroup), with panics propagated through wait() as the
// 2024 x/sync does. Lock order: GroupState::mu is a leaf; the context is cancelled and the
// semaphore used only after it is released.
#include "gocxx/errgroup.hpp"

#include <mutex>
#include <stdexcept>
#include <string>

#include "gocxx/defer.hpp"
#include "gocxx/sync.hpp"

namespace gocxx::errgroup::detail {

struct GroupState {
  sync::WaitGroup wg;
  context::CancelCauseFunc cancel;  // with_context's; empty for a plain Group. Set once, first.
  // One token per active goroutine while a limit is set; nil without a limit. Written only by
  // set_limit (which, as in Go, must not race with go()); each goroutine releases the token to
  // the channel it took it from.
  Chan<std::monostate> sem = Chan<std::monostate>::nil();

  sync::Mutex mu;           // guards the fields below
  error err;                // the first non-nil error
  std::exception_ptr panic; // the first panic
  bool panic_rethrown = false;
};

std::shared_ptr<GroupState> make_state() { return std::make_shared<GroupState>(); }

bool enter(GroupState& s, bool block, Chan<std::monostate>& token) {
  Chan<std::monostate> sem = s.sem;
  if (!sem.is_nil()) {
    if (block) {
      sem.send(std::monostate{});
    } else {
      bool sent = false;
      gocxx::select(gocxx::send_case(sem, std::monostate{}, [&] { sent = true; }),
                    gocxx::default_case());
      if (!sent) return false;
    }
  }
  s.wg.add(1);
  token = std::move(sem);
  return true;
}

void leave(GroupState& s, error err, std::exception_ptr panic,
           const Chan<std::monostate>& token) noexcept {
  if (panic) {
    bool first = false;
    error current;
    {
      std::lock_guard lk(s.mu);
      if (!s.panic) {
        s.panic = std::move(panic);
        first = true;
      }
      current = s.err;
    }
    if (first && s.cancel) s.cancel(current);  // Go: g.cancel(g.err) on the first panic
  } else if (err) {
    bool first = false;
    {
      std::lock_guard lk(s.mu);
      if (!s.err) {
        s.err = err;
        first = true;
      }
    }
    if (first && s.cancel) s.cancel(err);
  }
  if (!token.is_nil()) {
    Chan<std::monostate> sem = token;
    sem.recv();  // frees the slot: there is always a token of ours to take
  }
  s.wg.done();
}

}  // namespace gocxx::errgroup::detail

namespace gocxx::errgroup {

Group::Group() : state_(detail::make_state()) {}

detail::GroupState& Group::state() const {
  if (!state_) throw std::logic_error("gocxx::errgroup::Group: use of a moved-from Group");
  return *state_;
}

void Group::set_limit(int n) {
  detail::GroupState& s = state();
  if (n < 0) {
    s.sem = Chan<std::monostate>::nil();
    return;
  }
  if (!s.sem.is_nil()) {
    if (std::size_t active = s.sem.len(); active != 0) {
      gocxx::panic(errors::make("errgroup: modify limit while " + std::to_string(active) +
                                " goroutines in the group are still active"));
    }
  }
  s.sem = Chan<std::monostate>(static_cast<std::size_t>(n));
}

error Group::wait() {
  detail::GroupState& s = state();
  s.wg.wait();
  error err;
  std::exception_ptr panic;
  bool again = false;
  {
    std::lock_guard lk(s.mu);
    err = s.err;
    panic = s.panic;
    again = s.panic_rethrown;
    s.panic_rethrown = s.panic_rethrown || panic != nullptr;
  }
  if (s.cancel) s.cancel(err);
  if (panic) {
    if (again) {
      // Go panics again on every Wait. A gocxx::Panic that was rethrown before may have been
      // recovered since (its state says so), so raise a fresh panic with the same value.
      try {
        std::rethrow_exception(panic);
      } catch (const Panic& p) {
        gocxx::detail::raise_panic(p.value());
      } catch (...) {
        throw;  // a plain C++ exception object can be thrown again as it is
      }
    }
    std::rethrow_exception(panic);
  }
  return err;
}

std::pair<Group, context::Context> with_context(const context::Context& parent) {
  auto [ctx, cancel] = context::with_cancel_cause(parent);
  Group g;
  g.state_->cancel = std::move(cancel);
  return {std::move(g), std::move(ctx)};
}

}  // namespace gocxx::errgroup

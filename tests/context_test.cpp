// gocxx::context: the behaviours of Go's context_test.go (propagation, deadlines, values,
// causes, after_func, concurrent cancellation), plus gocxx's RAII guarantee that released
// contexts leak neither timers, goroutines, registrations nor memory.
#include "test_util.hpp"

#include <atomic>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <gocxx/context.hpp>

#include "runtime/timer.hpp"

using namespace std::chrono_literals;
using gocxx::test::run_with;
using gocxx::test::eventually;
using gocxx::test::is_done;
using gocxx::test::panic_message;
namespace context = gocxx::context;
using context::Context;
using gocxx::error;

namespace {

constexpr context::Key<std::string> k1{"k1"};
constexpr context::Key<std::string> k2{"k2"};
constexpr context::Key<std::string> k3{"k3"};
constexpr context::Key<int> int_key{"int-key"};

// Go's ctx.Done() is a <-chan struct{}: only the context closes it.
static_assert(std::is_same_v<decltype(std::declval<const Context&>().done()),
                             gocxx::RecvChan<std::monostate>>);

// Blocks until c is done (the channel is closed: recv returns nullopt).
void wait_done(const Context& c) { EXPECT_FALSE(c.done().recv().has_value()); }

std::size_t timers() { return gocxx::time::detail::timers_pending(); }

// Counts live instances, to prove values (and so the contexts holding them) are released.
struct Tracked {
  explicit Tracked(std::shared_ptr<std::atomic<int>> l) : live(std::move(l)) { ++*live; }
  Tracked(const Tracked& o) : live(o.live) { ++*live; }
  ~Tracked() { --*live; }
  std::shared_ptr<std::atomic<int>> live;
};
constexpr context::Key<Tracked> tracked_key{"tracked"};

}  // namespace

// ---- roots -----------------------------------------------------------------------------------

TEST(Context, BackgroundAndTodo) {
  for (const Context& c : {context::background(), context::todo()}) {
    ASSERT_TRUE(c);
    EXPECT_TRUE(c.done().is_nil());  // Go's nil Done channel: never ready
    EXPECT_FALSE(is_done(c));
    EXPECT_FALSE(c.err());
    EXPECT_FALSE(c.deadline().has_value());
    EXPECT_FALSE(context::cause(c));
    EXPECT_EQ(c.value(k1), nullptr);
  }
  EXPECT_EQ(context::background().string(), "context.Background");
  EXPECT_EQ(context::todo().string(), "context.TODO");
  EXPECT_TRUE(context::background() == context::background());
  EXPECT_FALSE(context::background() == context::todo());
}

TEST(Context, NilContextCannotBeAParent) {
  Context nil;
  EXPECT_FALSE(nil);
  EXPECT_EQ(panic_message([&] { context::with_cancel(nil); }),
            "cannot create context from nil parent");
  EXPECT_EQ(panic_message([&] { context::with_timeout(nil, 1s); }),
            "cannot create context from nil parent");
  EXPECT_EQ(panic_message([&] { context::with_value(nil, k1, "v"); }),
            "cannot create context from nil parent");
  EXPECT_EQ(panic_message([&] { context::without_cancel(nil); }),
            "cannot create context from nil parent");
  EXPECT_EQ(panic_message([&] { (void)nil.err(); }),
            "runtime error: invalid memory address or nil pointer dereference");
}

// ---- cancellation ----------------------------------------------------------------------------

TEST(Context, WithCancel) {
  run_with(2, [] {
    auto [c1, cancel] = context::with_cancel(context::background());
    EXPECT_EQ(c1.string(), "context.Background.WithCancel");
    Context o = context::with_value(c1, k1, "v");  // Go's otherContext{c1}
    auto [c2, cancel2] = context::with_cancel(o);
    for (const Context& c : {c1, o, c2}) {
      EXPECT_FALSE(c.done().is_nil());
      EXPECT_FALSE(is_done(c));
      EXPECT_FALSE(c.err());
    }
    EXPECT_TRUE(c1.done() == c1.done());  // the same channel every time
    EXPECT_TRUE(o.done() == c1.done());   // a value context passes its parent's through
    cancel();
    for (const Context& c : {c1, o, c2}) {
      wait_done(c);
      EXPECT_EQ(c.err(), context::canceled);
      EXPECT_EQ(context::cause(c), context::canceled);
    }
    cancel();  // idempotent
    cancel2();
    EXPECT_EQ(c2.err(), context::canceled);
  });
}

TEST(Context, ErrIsNilUntilDoneAndSetOnceDone) {
  run_with(2, [] {
    auto [ctx, cancel] = context::with_cancel(context::background());
    gocxx::Chan<bool> saw_err;
    gocxx::Chan<bool> read_before(1);  // err() is read before cancel(), whatever the schedule
    gocxx::go([ctx = ctx, saw_err, read_before]() mutable {
      read_before.send(!ctx.err());
      ctx.done().recv();
      saw_err.send(ctx.err() == context::canceled);
    });
    EXPECT_EQ(read_before.recv(), true);
    cancel();
    EXPECT_EQ(saw_err.recv(), true);
  });
}

TEST(Context, ParentFinishesChild) {
  run_with(2, [] {
    auto [parent, cancel] = context::with_cancel(context::background());
    auto [cancel_child, stop1] = context::with_cancel(parent);
    auto [timer_child, stop2] = context::with_timeout(parent, 24h);
    Context value_child = context::with_value(parent, k1, "v");
    auto [grandchild, stop3] = context::with_cancel(value_child);  // registers with parent
    gocxx::Chan<int> ran(1);
    auto stop_after = context::after_func(parent, [ran]() mutable { ran.send(1); });
    EXPECT_EQ(context::detail::registered_children(parent), 4u);

    cancel();
    EXPECT_EQ(context::detail::registered_children(parent), 0u);
    for (const Context& c : {parent, cancel_child, timer_child, value_child, grandchild}) {
      EXPECT_TRUE(is_done(c));  // synchronous: done before cancel() returns
      EXPECT_EQ(c.err(), context::canceled);
    }
    EXPECT_EQ(ran.recv(), 1);
    EXPECT_FALSE(stop_after());
  });
}

TEST(Context, ChildFinishesFirst) {
  run_with(2, [] {
    auto [parent, cancel_parent] = context::with_cancel(context::background());
    auto [child, cancel_child] = context::with_cancel(parent);
    auto [timed, cancel_timed] = context::with_timeout(parent, 24h);
    EXPECT_EQ(context::detail::registered_children(parent), 2u);
    cancel_child();
    cancel_timed();
    EXPECT_EQ(context::detail::registered_children(parent), 0u);  // Go's TestCancelRemoves
    EXPECT_EQ(child.err(), context::canceled);
    EXPECT_EQ(timed.err(), context::canceled);
    EXPECT_FALSE(is_done(parent));
    EXPECT_FALSE(parent.err());
    cancel_parent();
    EXPECT_EQ(parent.err(), context::canceled);
  });
}

TEST(Context, ChildOfCanceledParentIsBornCanceledWithTheParentsCause) {
  run_with(1, [] {
    auto [parent, cancel] = context::with_cancel_cause(context::background());
    error why = gocxx::errors::make("shutting down");
    cancel(why);
    auto [child, cancel_child] = context::with_cancel(parent);
    EXPECT_TRUE(is_done(child));
    EXPECT_EQ(child.err(), context::canceled);
    EXPECT_EQ(context::cause(child), why);
    auto [timed, cancel_timed] = context::with_timeout(parent, 1h);
    EXPECT_EQ(timed.err(), context::canceled);
    EXPECT_EQ(context::detail::registered_children(parent), 0u);
  });
}

TEST(Context, DefaultCancelFuncDoesNothingAndCopiesShareTheContext) {
  run_with(1, [] {
    context::CancelFunc none;
    EXPECT_FALSE(none);
    none();
    auto [ctx, cancel] = context::with_cancel(context::background());
    context::CancelFunc copy = cancel;
    EXPECT_TRUE(copy);
    copy();
    EXPECT_EQ(ctx.err(), context::canceled);
  });
}

TEST(Context, InterlockedCancels) {
  run_with(2, [] {
    auto [parent, cancel_parent] = context::with_cancel(context::background());
    auto [child, cancel_child] = context::with_cancel(context::background());
    gocxx::go([parent = parent, cancel_child = cancel_child] {
      parent.done().recv();
      cancel_child();
    });
    cancel_parent();
    wait_done(child);
    EXPECT_EQ(child.err(), context::canceled);
  });
}

TEST(Context, SimultaneousCancels) {
  run_with(4, [] {
    // Go's TestSimultaneousCancels: a tree of contexts, every cancel function called at once.
    auto [root, cancel_root] = context::with_cancel(context::background());
    std::vector<std::pair<Context, context::CancelFunc>> all{{root, cancel_root}};
    for (int level = 0, from = 0; level < 3; ++level) {
      int to = static_cast<int>(all.size());
      for (int i = from; i < to; ++i) {
        for (int j = 0; j < 3; ++j) {
          all.push_back(j == 2 ? context::with_timeout(all[i].first, 24h)
                               : context::with_cancel(all[i].first));
        }
      }
      from = to;
    }
    gocxx::sync::WaitGroup wg;
    for (int round = 0; round < 3; ++round) {
      for (auto& [ctx, cancel] : all) {
        wg.add(1);
        gocxx::go([cancel = cancel, &wg] {
          cancel();
          wg.done();
        });
      }
    }
    wg.wait();
    for (auto& [ctx, cancel] : all) {
      EXPECT_TRUE(is_done(ctx));
      EXPECT_EQ(ctx.err(), context::canceled);
      EXPECT_EQ(context::detail::registered_children(ctx), 0u);
    }
  });
}

TEST(Context, ConcurrentCancelStress) {
  run_with(4, [] {
    const int rounds = gocxx::test::scaled(300);
    for (int r = 0; r < rounds; ++r) {
      auto [parent, cancel_parent] = context::with_cancel_cause(context::background());
      auto [child, cancel_child] = context::with_cancel_cause(parent);
      error e1 = gocxx::errors::make("one"), e2 = gocxx::errors::make("two");
      gocxx::sync::WaitGroup wg;
      wg.add(3);
      gocxx::go([&, c = cancel_parent] { c(e1); wg.done(); });
      gocxx::go([&, c = cancel_child] { c(e2); wg.done(); });
      gocxx::go([&, child = child] {
        // Cause is read while it is being set (Go's TestCauseRace).
        error seen = context::cause(child);
        EXPECT_TRUE(!seen || seen == e1 || seen == e2);
        wg.done();
      });
      wg.wait();
      EXPECT_EQ(child.err(), context::canceled);
      error c = context::cause(child);
      EXPECT_TRUE(c == e1 || c == e2) << c;
      EXPECT_EQ(context::cause(parent), e1);
    }
  });
}

TEST(Context, Layers) {
  // Go's TestLayersCancel / TestLayersTimeout: random stacks of value, cancel and timeout
  // layers keep every value visible, and cancelling any layer (or its deadline passing) makes
  // the innermost context done with the right error.
  const context::Key<std::string>* keys[] = {&k1, &k2, &k3};
  run_with(2, [&] {
    std::mt19937 rng(12345);
    for (int round = 0; round < gocxx::test::scaled(100); ++round) {
      bool with_short_timeout = round % 2 == 1;
      Context ctx = context::background();
      std::vector<context::CancelFunc> cancels;
      std::string expected[3];
      for (int layer = 0; layer < 10; ++layer) {
        switch (rng() % 3) {
          case 0: {
            int k = static_cast<int>(rng() % 3);
            expected[k] = "layer " + std::to_string(layer);
            ctx = context::with_value(ctx, *keys[k], expected[k]);
            break;
          }
          case 1: {
            auto [c, cancel] = context::with_cancel(ctx);
            ctx = c;
            cancels.push_back(cancel);
            break;
          }
          default: {
            auto [c, cancel] = context::with_timeout(ctx, 24h);
            ctx = c;
            cancels.push_back(cancel);
            break;
          }
        }
      }
      if (with_short_timeout) {
        auto [c, cancel] = context::with_timeout(ctx, 1ms);
        ctx = c;
        cancels.push_back(cancel);
      }
      for (int k = 0; k < 3; ++k) {
        const std::string* got = ctx.value(*keys[k]);
        if (expected[k].empty()) {
          EXPECT_EQ(got, nullptr);
        } else {
          EXPECT_EQ(got ? *got : std::string("<missing>"), expected[k]);
        }
      }
      if (with_short_timeout) {
        wait_done(ctx);
        EXPECT_EQ(ctx.err(), context::deadline_exceeded);
      } else if (!cancels.empty()) {
        EXPECT_FALSE(is_done(ctx));
        cancels[rng() % cancels.size()]();
        EXPECT_TRUE(is_done(ctx));
        EXPECT_EQ(ctx.err(), context::canceled);
      } else {
        EXPECT_TRUE(ctx.done().is_nil());
      }
      for (auto& cancel : cancels) cancel();
    }
  });
}

// ---- deadlines -------------------------------------------------------------------------------

TEST(Context, DeadlineFires) {
  run_with(2, [] {
    auto start = gocxx::time::Clock::now();
    auto deadline = start + 20ms;
    auto [ctx, cancel] = context::with_deadline(context::background(), deadline);
    ASSERT_TRUE(ctx.deadline().has_value());
    EXPECT_EQ(*ctx.deadline(), deadline);
    EXPECT_EQ(ctx.string().rfind("context.Background.WithDeadline([", 0), 0u) << ctx.string();
    wait_done(ctx);
    EXPECT_GE(gocxx::time::Clock::now(), deadline);  // never early
    EXPECT_EQ(ctx.err(), context::deadline_exceeded);
    EXPECT_EQ(context::cause(ctx), context::deadline_exceeded);
    auto* timeout = gocxx::errors::as<context::DeadlineExceededError>(
        gocxx::errors::wrap(ctx.err(), "fetching"));
    ASSERT_NE(timeout, nullptr);
    EXPECT_TRUE(timeout->timeout());
    EXPECT_EQ(ctx.err().message(), "context deadline exceeded");
    cancel();  // after expiry: no effect
    EXPECT_EQ(ctx.err(), context::deadline_exceeded);
  });
}

TEST(Context, TimeoutFiresThroughOtherContexts) {
  run_with(2, [] {
    auto start = gocxx::time::Clock::now();
    auto [c, cancel] = context::with_timeout(context::background(), 20ms);
    Context o = context::with_value(c, k1, "x");
    auto [c2, cancel2] = context::with_timeout(o, 24h);  // later than the parent's
    wait_done(c2);
    EXPECT_GE(gocxx::time::Clock::now() - start, 20ms);
    EXPECT_EQ(c2.err(), context::deadline_exceeded);
    EXPECT_EQ(*c2.deadline(), *c.deadline());
  });
}

TEST(Context, DeadlineInThePastIsAlreadyExpired) {
  run_with(1, [] {
    std::size_t before = timers();
    auto [ctx, cancel] =
        context::with_deadline(context::background(), gocxx::time::Clock::now() - 1s);
    EXPECT_TRUE(is_done(ctx));
    EXPECT_EQ(ctx.err(), context::deadline_exceeded);
    EXPECT_TRUE(ctx.deadline().has_value());
    EXPECT_EQ(timers(), before);  // no timer for it
    auto [zero, cancel0] = context::with_timeout(context::background(), 0s);
    EXPECT_EQ(zero.err(), context::deadline_exceeded);
    auto [negative, cancel1] = context::with_timeout(context::background(), -5s);
    EXPECT_EQ(negative.err(), context::deadline_exceeded);
  });
}

TEST(Context, ChildDeadlineLaterThanParentsUsesTheParents) {
  run_with(2, [] {
    std::size_t before = timers();
    auto [parent, cancel_parent] = context::with_timeout(context::background(), 30ms);
    auto [child, cancel_child] =
        context::with_deadline(parent, gocxx::time::Clock::now() + 24h);
    EXPECT_EQ(timers(), before + 1);  // the child has no timer of its own
    EXPECT_EQ(child.deadline(), parent.deadline());
    EXPECT_TRUE(child.string().ends_with("]).WithCancel")) << child.string();  // as Go's
    wait_done(child);
    EXPECT_EQ(child.err(), context::deadline_exceeded);
    EXPECT_EQ(parent.err(), context::deadline_exceeded);
  });
}

TEST(Context, ChildDeadlineEarlierThanParents) {
  run_with(2, [] {
    auto [parent, cancel_parent] = context::with_timeout(context::background(), 24h);
    auto [child, cancel_child] = context::with_timeout(parent, 10ms);
    ASSERT_TRUE(child.deadline() && parent.deadline());
    EXPECT_LT(*child.deadline(), *parent.deadline());
    wait_done(child);
    EXPECT_EQ(child.err(), context::deadline_exceeded);
    EXPECT_FALSE(parent.err());  // a child's expiry never reaches its parent
    EXPECT_EQ(context::detail::registered_children(parent), 0u);  // it unregistered
    cancel_parent();
  });
}

TEST(Context, CanceledTimeout) {
  run_with(2, [] {
    auto [c, cancel] = context::with_timeout(context::background(), 24h);
    Context o = context::with_value(c, k1, "x");
    auto [c2, cancel2] = context::with_timeout(o, 24h);
    cancel2();
    wait_done(c2);
    EXPECT_EQ(c2.err(), context::canceled);  // not deadline_exceeded
    EXPECT_FALSE(c.err());
    cancel();
  });
}

TEST(Context, EnormousTimeoutsDoNotOverflow) {
  run_with(1, [] {
    auto [ctx, cancel] = context::with_timeout(context::background(), gocxx::time::Duration::max());
    EXPECT_EQ(*ctx.deadline(), gocxx::time::TimePoint::max());
    EXPECT_FALSE(is_done(ctx));
    cancel();
    EXPECT_EQ(ctx.err(), context::canceled);
  });
}

// ---- values ----------------------------------------------------------------------------------

TEST(Context, ValuesLookUpThroughTheChain) {
  // Go's TestValues.
  auto check = [](const Context& c, const char* name, const char* v1, const char* v2,
                  const char* v3) {
    for (auto [key, want] : {std::pair{&k1, v1}, std::pair{&k2, v2}, std::pair{&k3, v3}}) {
      const std::string* got = c.value(*key);
      if (want == nullptr) {
        EXPECT_EQ(got, nullptr) << name << " " << key->name();
      } else {
        ASSERT_NE(got, nullptr) << name << " " << key->name();
        EXPECT_EQ(*got, want) << name;
      }
    }
  };
  Context c0 = context::background();
  check(c0, "c0", nullptr, nullptr, nullptr);
  Context c1 = context::with_value(context::background(), k1, "c1k1");
  check(c1, "c1", "c1k1", nullptr, nullptr);
  EXPECT_EQ(c1.string(), "context.Background.WithValue(k1, c1k1)");
  Context c2 = context::with_value(c1, k2, "c2k2");
  check(c2, "c2", "c1k1", "c2k2", nullptr);
  Context c3 = context::with_value(c2, k3, "c3k3");
  check(c3, "c3", "c1k1", "c2k2", "c3k3");
  Context c4 = context::with_value(c3, k1, "c4k1");  // shadows c1's
  check(c4, "c4", "c4k1", "c2k2", "c3k3");
  check(c3, "c3 unchanged", "c1k1", "c2k2", "c3k3");

  run_with(1, [&] {
    auto [c5, cancel] = context::with_cancel(c4);
    auto [c6, cancel6] = context::with_timeout(c5, 24h);
    Context c7 = context::without_cancel(c6);
    for (const Context& c : {c5, c6, c7}) check(c, "through other contexts", "c4k1", "c2k2", "c3k3");
    cancel();
    check(c6, "after cancel", "c4k1", "c2k2", "c3k3");  // values outlive cancellation
  });
}

TEST(Context, KeysCompareByIdentityAndCarryTheirType) {
  static constexpr context::Key<std::string> other_k1{"k1"};  // same name, different key
  Context c = context::with_value(context::background(), k1, "text");
  c = context::with_value(c, int_key, 42);
  EXPECT_EQ(c.value(other_k1), nullptr);
  ASSERT_NE(c.value(int_key), nullptr);
  EXPECT_EQ(*c.value(int_key), 42);
  EXPECT_EQ(*c.value(k1), "text");
  EXPECT_EQ(c.string(), "context.Background.WithValue(k1, text).WithValue(int-key, 42)");

  static constexpr context::Key<std::unique_ptr<int>> owned{"owned"};  // move-only values
  Context o = context::with_value(c, owned, std::make_unique<int>(7));
  ASSERT_NE(o.value(owned), nullptr);
  EXPECT_EQ(**o.value(owned), 7);
  EXPECT_EQ(*o.value(int_key), 42);
}

TEST(Context, ValuesAreReleasedWithTheirContexts) {
  auto live = std::make_shared<std::atomic<int>>(0);
  run_with(2, [&] {
    {
      Context c = context::with_value(context::background(), tracked_key, Tracked(live));
      auto [c1, cancel1] = context::with_cancel(c);
      auto [c2, cancel2] = context::with_timeout(c1, 24h);
      auto stop = context::after_func(c2, [] {});
      Context c3 = context::without_cancel(c2);
      EXPECT_EQ(live->load(), 1);
      ASSERT_NE(c3.value(tracked_key), nullptr);
      EXPECT_EQ(c3.value(tracked_key)->live, live);
      cancel1();
    }
    EXPECT_EQ(live->load(), 0);
    {
      Context c = context::with_value(context::background(), tracked_key, Tracked(live));
      auto [c1, cancel1] = context::with_cancel(c);
      auto [c2, cancel2] = context::with_timeout(c1, 24h);
      context::after_func(c2, [] {});  // stop function dropped at once
      // never cancelled
    }
    EXPECT_EQ(live->load(), 0);
  });
}

// ---- causes ----------------------------------------------------------------------------------

TEST(Context, Cause) {
  // Go's TestCause, case by case.
  run_with(2, [] {
    error why = gocxx::errors::make("cause");
    error why2 = gocxx::errors::make("cause2");
    {
      const char* what = "with cancel";  // (no SCOPED_TRACE: goroutines migrate between threads)
      auto [ctx, cancel] = context::with_cancel(context::background());
      EXPECT_FALSE(context::cause(ctx));  // not done yet
      cancel();
      EXPECT_EQ(ctx.err(), context::canceled) << what;
      EXPECT_EQ(context::cause(ctx), context::canceled) << what;
    }
    {
      const char* what = "with cancel cause";
      auto [ctx, cancel] = context::with_cancel_cause(context::background());
      cancel(why);
      EXPECT_EQ(ctx.err(), context::canceled) << what;
      EXPECT_EQ(context::cause(ctx), why) << what;
    }
    {
      const char* what = "with cancel cause nil";
      auto [ctx, cancel] = context::with_cancel_cause(context::background());
      cancel(nullptr);
      EXPECT_EQ(context::cause(ctx), context::canceled) << what;
    }
    {
      const char* what = "parent of with cancel cause";
      auto [parent, cancel_parent] = context::with_cancel_cause(context::background());
      auto [ctx, cancel] = context::with_cancel(parent);
      cancel_parent(why);
      EXPECT_EQ(ctx.err(), context::canceled) << what;
      EXPECT_EQ(context::cause(ctx), why) << what;
    }
    {
      const char* what = "parent canceled first";
      auto [parent, cancel_parent] = context::with_cancel_cause(context::background());
      auto [ctx, cancel] = context::with_cancel_cause(parent);
      cancel_parent(why);
      cancel(why2);  // too late
      EXPECT_EQ(context::cause(ctx), why) << what;
    }
    {
      const char* what = "child canceled first";
      auto [parent, cancel_parent] = context::with_cancel_cause(context::background());
      auto [ctx, cancel] = context::with_cancel_cause(parent);
      cancel(why2);
      cancel_parent(why);
      EXPECT_EQ(context::cause(ctx), why2) << what;
      EXPECT_EQ(context::cause(parent), why) << what;
    }
    {
      const char* what = "deadline exceeded";
      auto [ctx, cancel] = context::with_timeout(context::background(), 0s);
      EXPECT_EQ(ctx.err(), context::deadline_exceeded) << what;
      EXPECT_EQ(context::cause(ctx), context::deadline_exceeded) << what;
    }
    {
      const char* what = "deadline exceeded cause";
      auto [ctx, cancel] = context::with_timeout_cause(context::background(), 0s, why);
      EXPECT_EQ(ctx.err(), context::deadline_exceeded) << what;
      EXPECT_EQ(context::cause(ctx), why) << what;
    }
    {
      const char* what = "timer fires with a cause";
      auto [ctx, cancel] = context::with_timeout_cause(context::background(), 5ms, why);
      wait_done(ctx);
      EXPECT_EQ(ctx.err(), context::deadline_exceeded) << what;
      EXPECT_EQ(context::cause(ctx), why) << what;
    }
    {
      const char* what = "canceled before the deadline with a cause";
      auto [ctx, cancel] =
          context::with_deadline_cause(context::background(), gocxx::time::Clock::now() + 24h, why);
      cancel();
      EXPECT_EQ(ctx.err(), context::canceled) << what;
      EXPECT_EQ(context::cause(ctx), context::canceled) << what;
    }
    {
      const char* what = "parent's cause reaches a timeout child";
      auto [parent, cancel_parent] = context::with_cancel_cause(context::background());
      auto [ctx, cancel] = context::with_timeout(parent, 24h);
      cancel_parent(why);
      EXPECT_EQ(ctx.err(), context::canceled) << what;
      EXPECT_EQ(context::cause(ctx), why) << what;
    }
    {
      const char* what = "value of a canceled context";
      auto [parent, cancel_parent] = context::with_cancel_cause(context::background());
      cancel_parent(why);
      Context ctx = context::with_value(parent, k1, "v");
      EXPECT_EQ(context::cause(ctx), why) << what;
    }
    {
      const char* what = "without cancel";
      auto [parent, cancel_parent] = context::with_cancel_cause(context::background());
      cancel_parent(why);
      Context ctx = context::without_cancel(parent);
      EXPECT_FALSE(ctx.err()) << what;
      EXPECT_FALSE(context::cause(ctx)) << what;
    }
    EXPECT_FALSE(context::cause(context::background()));
  });
}

// ---- without_cancel --------------------------------------------------------------------------

TEST(Context, WithoutCancelKeepsValuesButNotCancellation) {
  run_with(2, [] {
    auto [parent, cancel] =
        context::with_timeout(context::with_value(context::background(), k1, "kept"), 24h);
    Context detached = context::without_cancel(parent);
    EXPECT_TRUE(detached.done().is_nil());
    EXPECT_FALSE(detached.deadline().has_value());
    ASSERT_NE(detached.value(k1), nullptr);
    EXPECT_EQ(*detached.value(k1), "kept");
    EXPECT_TRUE(detached.string().ends_with(".WithoutCancel")) << detached.string();
    auto [child, cancel_child] = context::with_cancel(detached);
    EXPECT_EQ(context::detail::registered_children(parent), 0u);  // not linked to parent
    cancel();
    EXPECT_TRUE(is_done(parent));
    EXPECT_FALSE(is_done(detached));
    EXPECT_FALSE(detached.err());
    EXPECT_FALSE(context::cause(detached));
    EXPECT_FALSE(is_done(child));
    cancel_child();
    EXPECT_EQ(child.err(), context::canceled);
  });
}

// ---- after_func ------------------------------------------------------------------------------

TEST(Context, AfterFuncCalledAfterCancel) {
  run_with(2, [] {
    auto [ctx, cancel] = context::with_cancel(context::background());
    gocxx::Chan<gocxx::GoroutineId> ran(1);
    auto stop = context::after_func(ctx, [ran]() mutable { ran.send(gocxx::goroutine_id()); });
    gocxx::time::sleep(1ms);
    EXPECT_EQ(ran.len(), 0u);  // not before ctx is done
    cancel();
    auto id = ran.recv();
    ASSERT_TRUE(id.has_value());
    EXPECT_NE(*id, gocxx::goroutine_id());  // in its own goroutine
    EXPECT_FALSE(stop());
  });
}

TEST(Context, AfterFuncCalledAfterTimeout) {
  run_with(2, [] {
    auto [ctx, cancel] = context::with_timeout(context::background(), 5ms);
    gocxx::Chan<int> ran(1);
    auto stop = context::after_func(ctx, [ran]() mutable { ran.send(1); });
    EXPECT_EQ(ran.recv(), 1);
    EXPECT_EQ(ctx.err(), context::deadline_exceeded);
    EXPECT_FALSE(stop());
  });
}

TEST(Context, AfterFuncCalledImmediatelyWhenAlreadyDone) {
  run_with(2, [] {
    auto [ctx, cancel] = context::with_cancel(context::background());
    cancel();
    gocxx::Chan<int> ran(1);
    auto stop = context::after_func(ctx, [ran]() mutable { ran.send(1); });
    EXPECT_EQ(ran.recv(), 1);
    EXPECT_FALSE(stop());
  });
}

TEST(Context, AfterFuncNotCalledAfterStop) {
  run_with(2, [] {
    auto [ctx, cancel] = context::with_cancel(context::background());
    std::atomic<bool> ran{false};
    // NOLINTNEXTLINE(gocxx-go-capture-ref): stop() returns true below: f never runs
    auto stop = context::after_func(ctx, [&ran] { ran = true; });
    EXPECT_EQ(context::detail::registered_children(ctx), 1u);
    EXPECT_TRUE(stop());
    EXPECT_EQ(context::detail::registered_children(ctx), 0u);  // the registration is gone
    EXPECT_FALSE(stop());  // only the first stop stops it
    cancel();
    gocxx::time::sleep(5ms);
    EXPECT_FALSE(ran.load());
  });
}

TEST(Context, AfterFuncIsCalledAsynchronously) {
  run_with(2, [] {
    auto [ctx, cancel] = context::with_cancel(context::background());
    gocxx::Chan<int> release, finished(1);
    context::after_func(ctx, [release, finished]() mutable {
      release.recv();  // blocks until the test lets it go
      finished.send(1);
    });
    cancel();          // would never return if f ran synchronously
    release.send(1);
    EXPECT_EQ(finished.recv(), 1);
  });
}

TEST(Context, AfterFuncOnAContextThatIsNeverDone) {
  run_with(1, [] {
    std::atomic<bool> ran{false};
    // NOLINTBEGIN(gocxx-go-capture-ref): stop() and stop2() return true: f never runs
    auto stop = context::after_func(context::background(), [&ran] { ran = true; });
    EXPECT_TRUE(stop());
    auto stop2 = context::after_func(
        context::without_cancel(context::with_cancel(context::background()).first),
        [&ran] { ran = true; });
    // NOLINTEND(gocxx-go-capture-ref)
    EXPECT_TRUE(stop2());
    EXPECT_FALSE(ran.load());
    EXPECT_EQ(panic_message([] { context::after_func(context::background(), nullptr); }),
              "context: after_func with an empty function");
  });
}

TEST(Context, AfterFuncStopRacesCancel) {
  // Exactly one of the two wins: either stop() returns true and f never runs, or f runs once.
  run_with(4, [] {
    const int rounds = gocxx::test::scaled(500);
    for (int r = 0; r < rounds; ++r) {
      auto [ctx, cancel] = context::with_cancel(context::background());
      gocxx::Chan<int> ran(2);
      auto stop = context::after_func(ctx, [ran]() mutable { ran.send(1); });
      gocxx::Chan<bool> stopped(1);
      gocxx::go([stop, stopped]() mutable { stopped.send(stop()); });
      gocxx::go([cancel = cancel] { cancel(); });
      bool was_stopped = *stopped.recv();
      if (was_stopped) {
        EXPECT_EQ(ran.len(), 0u);
      } else {
        EXPECT_EQ(ran.recv(), 1);  // f was started: it runs exactly once
      }
      wait_done(ctx);
      EXPECT_LE(ran.len(), 0u);
      EXPECT_FALSE(stop());
    }
  });
}

// ---- no leaks --------------------------------------------------------------------------------

TEST(Context, ReleasedContextsLeakNoTimersGoroutinesOrRegistrations) {
  run_with(2, [] {
    std::size_t timers_before = timers();
    int goroutines_before = gocxx::num_goroutine();
    auto [parent, cancel_parent] = context::with_cancel(context::background());
    {
      std::vector<Context> keep;
      for (int i = 0; i < 1000; ++i) {
        keep.push_back(context::with_cancel(parent).first);
        keep.push_back(context::with_timeout(parent, 24h).first);
        keep.push_back(context::with_deadline(keep.back(), gocxx::time::Clock::now() + 1h).first);
        keep.push_back(context::with_value(keep.back(), k1, "v"));
      }
      EXPECT_EQ(timers(), timers_before + 2000);
      EXPECT_EQ(context::detail::registered_children(parent), 2000u);
      // Never cancelled: only released.
    }
    EXPECT_EQ(context::detail::registered_children(parent), 0u);
    EXPECT_EQ(timers(), timers_before);
    EXPECT_EQ(gocxx::num_goroutine(), goroutines_before);
    EXPECT_FALSE(parent.err());
  });
}

TEST(Context, CancelStopsTimersAtOnce) {
  run_with(2, [] {
    std::size_t before = timers();
    auto [parent, cancel_parent] = context::with_timeout(context::background(), 24h);
    auto [a, cancel_a] = context::with_timeout(parent, 1h);
    auto [b, cancel_b] = context::with_timeout(a, 30min);
    EXPECT_EQ(timers(), before + 3);
    cancel_b();
    EXPECT_EQ(timers(), before + 2);
    cancel_parent();  // stops the descendants' timers too, though their handles live on
    EXPECT_EQ(timers(), before);
    EXPECT_EQ(a.err(), context::canceled);
  });
}

TEST(Context, FiredTimersLeaveNothingBehind) {
  run_with(2, [] {
    std::size_t timers_before = timers();
    int goroutines_before = gocxx::num_goroutine();
    for (int i = 0; i < 20; ++i) {
      auto [ctx, cancel] = context::with_timeout(context::background(), 1ms);
      wait_done(ctx);
      EXPECT_EQ(ctx.err(), context::deadline_exceeded);
    }
    EXPECT_EQ(timers(), timers_before);
    EXPECT_TRUE(eventually([&] { return gocxx::num_goroutine() == goroutines_before; }));
  });
}

TEST(Context, ACancelFuncAloneKeepsTheRegistration) {
  run_with(1, [] {
    auto [parent, cancel_parent] = context::with_cancel(context::background());
    context::CancelFunc cancel;
    {
      auto [child, c] = context::with_cancel(parent);
      cancel = c;
    }
    EXPECT_EQ(context::detail::registered_children(parent), 1u);
    cancel();
    EXPECT_EQ(context::detail::registered_children(parent), 0u);
    cancel = {};
    // A grandchild keeps its ancestors (and their registrations) alive as well.
    Context grandchild;
    {
      auto [child, c] = context::with_cancel(parent);
      grandchild = context::with_cancel(context::with_value(child, k1, "v")).first;
    }
    EXPECT_EQ(context::detail::registered_children(parent), 1u);
    cancel_parent();
    EXPECT_EQ(grandchild.err(), context::canceled);
    ASSERT_NE(grandchild.value(k1), nullptr);
  });
}

TEST(Context, OnFirstUseRunsOnceWhenObservedAndNeverAfterCancel) {
  run_with(2, [] {
    auto observe_with = [](const std::function<void(const context::Context&)>& observe) {
      int calls = 0;
      auto [ctx, cancel] = context::detail::with_cancel_on_first_use(context::background(), [&] { ++calls; });
      static const context::Key<int> key{"k"};
      auto valued = context::with_value(ctx, key, 1);
      EXPECT_EQ(valued.value(key) != nullptr, true);
      (void)valued.deadline();
      EXPECT_EQ(calls, 0) << "value() and deadline() are not observations";
      observe(valued);
      observe(ctx);
      cancel();
      observe(ctx);
      return calls;
    };
    EXPECT_EQ(observe_with([](const context::Context& c) { (void)c.done(); }), 1);
    EXPECT_EQ(observe_with([](const context::Context& c) { (void)c.err(); }), 1);
    EXPECT_EQ(observe_with([](const context::Context& c) { (void)context::cause(c); }), 1);
    EXPECT_EQ(observe_with([](const context::Context& c) { (void)context::with_cancel(c); }), 1);
    EXPECT_EQ(observe_with([](const context::Context& c) { (void)context::after_func(c, [] {}); }), 1);

    int calls = 0;
    auto [ctx, cancel] = context::detail::with_cancel_on_first_use(context::background(), [&] { ++calls; });
    cancel();
    (void)ctx.done();
    (void)ctx.err();
    EXPECT_EQ(calls, 0) << "a cancelled context drops its hook unrun";
    EXPECT_EQ(ctx.err(), context::canceled);
  });
}

TEST(Context, DeepChains) {
  run_with(2, [] {
    gocxx::Chan<bool> ok(1);
    // In a goroutine (default stack), as a request handler would build it.
    gocxx::go([ok]() mutable {
      auto [root, cancel] = context::with_cancel(context::with_value(context::background(), k1, "root"));
      Context leaf = root;
      for (int i = 0; i < 500; ++i) {
        leaf = (i % 2 == 0) ? context::with_value(leaf, int_key, i)
                            : context::with_cancel(leaf).first;
      }
      bool good = leaf.value(k1) && *leaf.value(k1) == "root" && *leaf.value(int_key) == 498;
      cancel();
      good = good && leaf.err() == context::canceled;
      leaf = Context();  // releases the chain
      ok.send(good);
    });
    EXPECT_EQ(ok.recv(), true);
  });
}

// ---- outside gocxx::run ----------------------------------------------------------------------

TEST(Context, WorksOnPlainThreads) {
  auto [ctx, cancel] = context::with_timeout(context::background(), 10ms);
  std::atomic<int> ran{0};
  gocxx::Chan<int> done(1);
  context::after_func(ctx, [&ran, done]() mutable {
    ran = 1;
    done.send(1);
  });
  wait_done(ctx);  // the timer fires with no gocxx::run active
  EXPECT_EQ(ctx.err(), context::deadline_exceeded);
  EXPECT_EQ(done.recv(), 1);  // f ran on a thread standing in for a goroutine
  EXPECT_EQ(ran.load(), 1);

  // A plain thread cancels goroutines' contexts.
  run_with(2, [] {
    auto [c, cancel_c] = context::with_cancel(context::background());
    gocxx::Chan<bool> seen;
    gocxx::go([c = c, seen]() mutable {
      c.done().recv();
      seen.send(c.err() == context::canceled);
    });
    std::thread([cancel_c = cancel_c] { cancel_c(); }).join();
    EXPECT_EQ(seen.recv(), true);
  });
}

// ---- Go's examples and the article's -----------------------------------------------------------

TEST(Context, ExampleWithCancelStopsAGenerator) {
  // Go's ExampleWithCancel: cancelling the context stops the generator goroutine.
  run_with(2, [] {
    int before = gocxx::num_goroutine();
    auto gen = [](Context ctx) {
      gocxx::Chan<int> dst;
      gocxx::go([ctx, dst]() mutable {
        for (int n = 1;; ++n) {
          bool stop = false;
          gocxx::select(gocxx::recv_case(ctx.done(), [&] { stop = true; }),
                        gocxx::send_case(dst, n));
          if (stop) return;  // returning not to leak the goroutine
        }
      });
      return dst;
    };
    std::vector<int> got;
    {
      auto [ctx, cancel] = context::with_cancel(context::background());
      auto numbers = gen(ctx);
      for (int i = 0; i < 5; ++i) got.push_back(*numbers.recv());
      cancel();
    }
    EXPECT_EQ(got, (std::vector<int>{1, 2, 3, 4, 5}));
    EXPECT_TRUE(eventually([&] { return gocxx::num_goroutine() == before; }));
  });
}

TEST(Context, ExampleWithTimeoutSelect) {
  // Go's ExampleWithTimeout: the context's deadline wins over a slower operation.
  run_with(2, [] {
    auto [ctx, cancel] = context::with_timeout(context::background(), 5ms);
    std::string outcome;
    gocxx::select(gocxx::recv_case(gocxx::time::after(24h), [&] { outcome = "overslept"; }),
                  gocxx::recv_case(ctx.done(), [&, ctx = ctx] { outcome = ctx.err().message(); }));
    EXPECT_EQ(outcome, "context deadline exceeded");
    cancel();
  });
}

namespace {

// The interview answer of the article on goroutine leaks this project started from: a service
// whose worker goroutine is bound to a context, closed by cancelling it and waiting for the
// goroutine with a WaitGroup.
class Service {
 public:
  Service() {
    auto [ctx, cancel] = context::with_cancel(context::background());
    cancel_ = cancel;
    wg_.add(1);
    gocxx::go([this, ctx = ctx] {
      for (bool running = true; running;) {
        gocxx::select(gocxx::recv_case(ctx.done(), [&] { running = false; }),
                      gocxx::recv_case(ch_, [&](std::optional<int> v) {
                        if (!v) running = false;
                        else handled_ += *v;
                      }));
      }
      wg_.done();
    });
  }
  void submit(int v) { ch_.send(v); }
  int close() {
    cancel_();
    wg_.wait();  // the goroutine has exited: no leak, and handled_ is safe to read
    return handled_;
  }

 private:
  gocxx::Chan<int> ch_{1};
  context::CancelFunc cancel_;
  gocxx::sync::WaitGroup wg_;
  int handled_ = 0;
};

}  // namespace

TEST(Context, ArticleServiceClosesItsGoroutine) {
  run_with(2, [] {
    int before = gocxx::num_goroutine();
    Service s;
    EXPECT_EQ(gocxx::num_goroutine(), before + 1);
    s.submit(1);
    s.submit(2);
    s.submit(3);
    int handled = s.close();
    EXPECT_GE(handled, 3);  // 1 + 2 at least; 3 may still sit in the buffer
    EXPECT_TRUE(eventually([&] { return gocxx::num_goroutine() == before; }));
  });
}

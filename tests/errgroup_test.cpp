// gocxx::errgroup: the behaviours of x/sync's errgroup_test.go (first error, context
// cancellation and cause, try_go, limits), panic propagation through wait(), and the
// errgroup.WithContext example of the article on goroutine leaks this project started from.
#include "test_util.hpp"

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <gocxx/context.hpp>
#include <gocxx/errgroup.hpp>

using namespace std::chrono_literals;
using gocxx::test::run_with;
using gocxx::test::eventually;
using gocxx::test::is_done;
using gocxx::test::panic_message;
namespace context = gocxx::context;
namespace errgroup = gocxx::errgroup;
using gocxx::error;

namespace {

[[gnu::noinline]] error explode() { gocxx::panic("boom"); }

}  // namespace

TEST(Errgroup, ZeroGroupReturnsTheFirstError) {
  // x/sync's TestZeroGroup: go + wait one at a time, so "first" is deterministic.
  run_with(2, [] {
    error err1 = gocxx::errors::make("errgroup_test: 1");
    error err2 = gocxx::errors::make("errgroup_test: 2");
    std::vector<std::vector<error>> cases = {
        {}, {nullptr}, {err1}, {err1, nullptr}, {err1, nullptr, err2}};
    for (const auto& errs : cases) {
      errgroup::Group g;
      error first;
      for (const error& err : errs) {
        g.go([err] { return err; });
        if (!first && err) first = err;
        EXPECT_EQ(g.wait(), first);
      }
    }
  });
}

TEST(Errgroup, WithContextCancelsOnErrorAndAfterWait) {
  // x/sync's TestWithContext (and TestCancelCause): after wait the context is always done, and
  // its cause is the first error.
  run_with(2, [] {
    error doom = gocxx::errors::make("group_test: doomed");
    std::vector<std::pair<std::vector<error>, error>> cases = {
        {{}, nullptr}, {{nullptr}, nullptr}, {{doom}, doom}, {{doom, nullptr}, doom}};
    for (const auto& [errs, want] : cases) {
      auto [g, ctx] = errgroup::with_context(context::background());
      for (const error& err : errs) g.go([err] { return err; });
      EXPECT_EQ(g.wait(), want);
      EXPECT_TRUE(is_done(ctx));
      EXPECT_EQ(ctx.err(), context::canceled);
      EXPECT_EQ(context::cause(ctx), want ? want : context::canceled);
    }
  });
}

TEST(Errgroup, FirstErrorCancelsTheOthers) {
  run_with(4, [] {
    error doom = gocxx::errors::make("doomed");
    auto [g, ctx] = errgroup::with_context(context::background());
    std::atomic<int> saw_cancel{0};
    for (int i = 0; i < 8; ++i) {
      g.go([ctx = ctx, &saw_cancel]() -> error {
        ctx.done().recv();  // blocks until a sibling fails
        ++saw_cancel;
        return ctx.err();
      });
    }
    g.go([doom] { return doom; });
    EXPECT_EQ(g.wait(), doom);  // the first error, not the siblings' `canceled`
    EXPECT_EQ(saw_cancel.load(), 8);
    EXPECT_EQ(context::cause(ctx), doom);
  });
}

TEST(Errgroup, ParentCancellationReachesTheGroup) {
  run_with(2, [] {
    auto [parent, cancel] = context::with_cancel(context::background());
    auto [g, ctx] = errgroup::with_context(parent);
    g.go([ctx = ctx] {
      ctx.done().recv();
      return ctx.err();
    });
    cancel();
    EXPECT_EQ(g.wait(), context::canceled);
  });
}

TEST(Errgroup, TryGo) {
  // x/sync's TestTryGo.
  run_with(4, [] {
    errgroup::Group g;
    const int n = 42;
    g.set_limit(n);
    gocxx::Chan<int> ch;
    auto fn = [ch]() mutable -> error {
      ch.send(1);
      return nullptr;
    };
    for (int i = 0; i < n; ++i) EXPECT_TRUE(g.try_go(fn)) << i;
    EXPECT_FALSE(g.try_go(fn));  // the limit is reached
    gocxx::go([ch]() mutable {
      for (int i = 0; i < n; ++i) ch.recv();
    });
    EXPECT_FALSE(g.wait());

    EXPECT_TRUE(g.try_go(fn));  // every slot is free again
    gocxx::go([ch]() mutable { ch.recv(); });
    EXPECT_FALSE(g.wait());

    g.set_limit(1);  // switch the limit
    EXPECT_TRUE(g.try_go(fn));
    EXPECT_FALSE(g.try_go(fn));
    gocxx::go([ch]() mutable { ch.recv(); });
    EXPECT_FALSE(g.wait());

    g.set_limit(0);  // block all calls
    for (int i = 0; i < 1024; ++i) EXPECT_FALSE(g.try_go(fn));
    EXPECT_FALSE(g.wait());

    g.set_limit(-1);  // no limit
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(g.try_go([] { return error(); }));
    EXPECT_FALSE(g.wait());
  });
}

TEST(Errgroup, GoLimit) {
  // x/sync's TestGoLimit: never more than `limit` functions run at once.
  run_with(4, [] {
    const int limit = 10;
    errgroup::Group g;
    g.set_limit(limit);
    std::atomic<int> active{0}, peak{0};
    for (int i = 0; i <= gocxx::test::scaled(1 << 10); ++i) {
      g.go([&]() -> error {
        int now = ++active;
        int seen = peak.load();
        while (now > seen && !peak.compare_exchange_weak(seen, now)) {
        }
        if (now > limit) return gocxx::errors::make("saw " + std::to_string(now) + " active");
        gocxx::yield();  // give the others a chance to increment `active`
        --active;
        return nullptr;
      });
    }
    EXPECT_FALSE(g.wait());
    EXPECT_LE(peak.load(), limit);
    EXPECT_GE(peak.load(), 1);
  });
}

TEST(Errgroup, GoBlocksWhileAtTheLimit) {
  run_with(2, [] {
    errgroup::Group g;
    g.set_limit(1);
    gocxx::Chan<int> release;
    g.go([release]() mutable -> error {
      release.recv();
      return nullptr;
    });
    gocxx::Chan<int> started(1);
    gocxx::go([&g, started]() mutable {
      g.go([] { return error(); });  // blocks until the first function returns
      started.send(1);
    });
    gocxx::time::sleep(2ms);
    EXPECT_EQ(started.len(), 0u);
    release.send(1);
    EXPECT_EQ(started.recv(), 1);
    EXPECT_FALSE(g.wait());
  });
}

TEST(Errgroup, SetLimitWhileActivePanics) {
  run_with(2, [] {
    errgroup::Group g;
    g.set_limit(2);
    gocxx::Chan<int> release;
    g.go([release]() mutable -> error {
      release.recv();
      return nullptr;
    });
    EXPECT_EQ(panic_message([&] { g.set_limit(3); }),
              "errgroup: modify limit while 1 goroutines in the group are still active");
    g.set_limit(-1);  // removing the limit is allowed (Go's SetLimit does the same)
    release.send(1);
    EXPECT_FALSE(g.wait());
    g.set_limit(3);  // nothing active any more
    EXPECT_FALSE(g.wait());
  });
}

TEST(Errgroup, PanicIsRethrownByWaitAfterTheOthersFinish) {
  run_with(4, [] {
    auto [g, ctx] = errgroup::with_context(context::background());
    std::atomic<bool> sibling_finished{false};
    g.go([ctx = ctx, &sibling_finished]() -> error {
      ctx.done().recv();  // cancelled by the panic
      gocxx::time::sleep(1ms);
      sibling_finished = true;
      return nullptr;
    });
    g.go([] { return explode(); });
    std::optional<gocxx::PanicValue> recovered;
    gocxx::func([&](gocxx::Defer& defer) {
      defer([&] { recovered = gocxx::recover(); });
      (void)g.wait();
      ADD_FAILURE() << "wait() returned instead of panicking";
    });
    ASSERT_TRUE(recovered.has_value());
    ASSERT_NE(recovered->as<std::string>(), nullptr);  // the original value, not a copy of it
    EXPECT_EQ(*recovered->as<std::string>(), "boom");
    EXPECT_TRUE(sibling_finished.load());  // wait() waited for everyone first
    EXPECT_TRUE(is_done(ctx));
    // Go panics again on every Wait.
    EXPECT_EQ(panic_message([&] { (void)g.wait(); }), "boom");
    EXPECT_EQ(panic_message([&] { (void)g.wait(); }), "boom");
  });
}

TEST(Errgroup, FirstPanicWinsAndErrorsStillCancel) {
  run_with(4, [] {
    errgroup::Group g;
    gocxx::Chan<int> first_done(1);
    g.go([first_done]() mutable -> error {
      first_done.send(1);
      gocxx::panic(42);
    });
    g.go([first_done]() mutable -> error {
      first_done.recv();  // after the first has started panicking
      gocxx::time::sleep(1ms);
      gocxx::panic(7);
    });
    std::optional<gocxx::PanicValue> recovered;
    gocxx::func([&](gocxx::Defer& defer) {
      defer([&] { recovered = gocxx::recover(); });
      (void)g.wait();
    });
    ASSERT_TRUE(recovered && recovered->as<int>());
    EXPECT_TRUE(*recovered->as<int>() == 42 || *recovered->as<int>() == 7);
  });
}

TEST(Errgroup, CxxExceptionsPropagateThroughWait) {
  run_with(2, [] {
    errgroup::Group g;
    g.go([]() -> error { throw std::runtime_error("bad input"); });
    g.go([] { return gocxx::errors::make("ordinary error"); });
    try {
      (void)g.wait();
      ADD_FAILURE() << "wait() did not throw";
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "bad input");
    }
    EXPECT_THROW(g.wait(), std::runtime_error);  // again on every wait
  });
}

class ErrgroupDeathTest : public testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

TEST_F(ErrgroupDeathTest, UnrecoveredPanicEndsTheProgramWithGosReport) {
  EXPECT_EXIT(run_with(2,
                       [] {
                         errgroup::Group g;
                         g.go([] { return explode(); });
                         (void)g.wait();
                       }),
              testing::ExitedWithCode(2),
              "^panic: boom\n\ngoroutine 1 \\[running\\]:\n(.|\n)*explode");
}

TEST(Errgroup, WaitWithNothingToWaitFor) {
  run_with(1, [] {
    errgroup::Group g;
    EXPECT_FALSE(g.wait());
    auto [g2, ctx] = errgroup::with_context(context::background());
    EXPECT_FALSE(is_done(ctx));
    EXPECT_FALSE(g2.wait());
    EXPECT_EQ(ctx.err(), context::canceled);
  });
}

TEST(Errgroup, ReuseAfterWaitKeepsTheFirstError) {
  run_with(2, [] {
    error e1 = gocxx::errors::make("one"), e2 = gocxx::errors::make("two");
    errgroup::Group g;
    g.go([e1] { return e1; });
    EXPECT_EQ(g.wait(), e1);
    g.go([e2] { return e2; });
    EXPECT_EQ(g.wait(), e1);  // as Go's errOnce: the group's error is set once
  });
}

TEST(Errgroup, NestedGoIsWaitedFor) {
  run_with(4, [] {
    errgroup::Group g;
    std::atomic<int> ran{0};
    for (int i = 0; i < 4; ++i) {
      g.go([&]() -> error {
        for (int j = 0; j < 4; ++j) {
          g.go([&]() -> error {
            gocxx::time::sleep(1ms);
            ++ran;
            return nullptr;
          });
        }
        ++ran;
        return nullptr;
      });
    }
    EXPECT_FALSE(g.wait());
    EXPECT_EQ(ran.load(), 20);
  });
}

TEST(Errgroup, CapturesAreReleasedBeforeWaitReturnsAndNoGoroutineLeaks) {
  run_with(4, [] {
    int before = gocxx::num_goroutine();
    auto token = std::make_shared<int>(0);
    {
      errgroup::Group g;
      for (int i = 0; i < 16; ++i) {
        g.go([token] {
          gocxx::yield();
          return error();
        });
      }
      EXPECT_FALSE(g.wait());
      EXPECT_EQ(token.use_count(), 1);  // every copy died before wait() returned
    }
    EXPECT_TRUE(eventually([&] { return gocxx::num_goroutine() == before; }));
  });
}

TEST(Errgroup, MovedGroupKeepsWorking) {
  run_with(2, [] {
    errgroup::Group a;
    a.set_limit(2);
    error e = gocxx::errors::make("moved");
    a.go([e] { return e; });
    errgroup::Group b = std::move(a);
    b.go([] { return error(); });
    EXPECT_EQ(b.wait(), e);
    EXPECT_THROW(a.wait(), std::logic_error);  // NOLINT(bugprone-use-after-move)
  });
}

// ---- the article's example and x/sync's examples ------------------------------------------------

namespace {

struct Task {
  int id;
  gocxx::time::Duration cost;
  bool fails;
};

// Does one task's work unless the group's context is cancelled first.
error process_task(const context::Context& ctx, const Task& task) {
  error result;
  gocxx::select(gocxx::recv_case(gocxx::time::after(task.cost),
                                 [&] {
                                   if (task.fails) {
                                     result = gocxx::errors::make("task " +
                                                                  std::to_string(task.id) +
                                                                  ": invalid payload");
                                   }
                                 }),
                gocxx::recv_case(ctx.done(), [&] {
                  result = gocxx::errors::wrap(ctx.err(), "task " + std::to_string(task.id));
                }));
  return result;
}

}  // namespace

TEST(Errgroup, ArticleExampleProcessTasksWithContext) {
  // g, ctx := errgroup.WithContext(context.Background())
  // for i := range tasks { i := i; g.Go(func() error { return processTask(ctx, tasks[i]) }) }
  // if err := g.Wait(); err != nil { /* the aggregated error */ }
  run_with(4, [] {
    int before = gocxx::num_goroutine();
    std::vector<Task> tasks;
    for (int i = 0; i < 10; ++i) tasks.push_back({i, i == 3 ? 1ms : 24h, i == 3});
    std::atomic<int> canceled_tasks{0};
    auto [g, ctx] = errgroup::with_context(context::background());
    for (std::size_t i = 0; i < tasks.size(); ++i) {
      g.go([&tasks, i, ctx = ctx, &canceled_tasks] {
        error err = process_task(ctx, tasks[i]);
        if (gocxx::errors::is(err, context::canceled)) ++canceled_tasks;
        return err;
      });
    }
    error err = g.wait();
    ASSERT_TRUE(err);
    EXPECT_EQ(err.message(), "task 3: invalid payload");
    EXPECT_EQ(canceled_tasks.load(), 9);  // the 24h tasks were cut short by the failure
    EXPECT_EQ(context::cause(ctx), err);
    EXPECT_TRUE(eventually([&] { return gocxx::num_goroutine() == before; }));
  });
}

TEST(Errgroup, ArticleExampleAllTasksSucceed) {
  run_with(4, [] {
    std::vector<Task> tasks;
    for (int i = 0; i < 10; ++i) tasks.push_back({i, std::chrono::microseconds(100 * i), false});
    std::atomic<int> processed{0};
    auto [g, ctx] = errgroup::with_context(context::background());
    for (const Task& task : tasks) {
      g.go([&task, ctx = ctx, &processed] {
        error err = process_task(ctx, task);
        if (!err) ++processed;
        return err;
      });
    }
    EXPECT_FALSE(g.wait());
    EXPECT_EQ(processed.load(), 10);
  });
}

TEST(Errgroup, ExamplePipeline) {
  // x/sync's ExampleGroup_pipeline, shaped after MD5All: a producer, bounded workers and a
  // collector; a failing item cancels the whole pipeline and nothing is left blocked.
  for (bool fail : {false, true}) {
    run_with(4, [fail] {
      int before = gocxx::num_goroutine();
      auto [g, ctx] = errgroup::with_context(context::background());
      gocxx::Chan<int> items;
      g.go([&, ctx = ctx]() -> error {
        for (int i = 1; i <= 100; ++i) {
          bool stop = false;
          gocxx::select(gocxx::send_case(items, i), gocxx::recv_case(ctx.done(), [&] { stop = true; }));
          if (stop) return ctx.err();
        }
        items.close();
        return nullptr;
      });
      gocxx::Chan<long> squares;
      std::atomic<int> workers{4};  // the last worker out closes `squares`
      for (int w = 0; w < 4; ++w) {
        g.go([&, ctx = ctx]() -> error {
          error err;
          for (bool more = true; more && !err;) {
            gocxx::select(
                gocxx::recv_case(items,
                                 [&](std::optional<int> v) {
                                   if (!v) {
                                     more = false;
                                   } else if (fail && *v == 50) {
                                     err = gocxx::errors::make("item 50 is corrupt");
                                   } else {
                                     gocxx::select(gocxx::send_case(squares, long(*v) * *v),
                                                   gocxx::recv_case(ctx.done(),
                                                                    [&] { err = ctx.err(); }));
                                   }
                                 }),
                gocxx::recv_case(ctx.done(), [&] { err = ctx.err(); }));
          }
          if (--workers == 0) squares.close();
          return err;
        });
      }
      long sum = 0;
      for (long s : squares) sum += s;
      error err = g.wait();
      if (fail) {
        ASSERT_TRUE(err);
        EXPECT_EQ(err.message(), "item 50 is corrupt");
      } else {
        EXPECT_FALSE(err);
        EXPECT_EQ(sum, 338350);  // 1^2 + ... + 100^2
      }
      EXPECT_TRUE(eventually([&] { return gocxx::num_goroutine() == before; }));
    });
  }
}

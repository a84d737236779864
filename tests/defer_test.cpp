// defer / panic / recover (Go's semantics) on gocxx::func, gocxx::Defer and gocxx::Panic.
#include <atomic>
#include <cmath>
#include <complex>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <new>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "test_util.hpp"

using namespace std::chrono_literals;
using gocxx::test::in_goroutine;
using gocxx::test::run_with;

// ---- allocation counting, to prove the common defer forms allocate nothing ----------------
namespace {
std::atomic<bool> g_counting{false};
std::atomic<long> g_allocations{0};
}  // namespace

void* operator new(std::size_t size) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1);
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

struct Point {
  int x, y;
  friend std::ostream& operator<<(std::ostream& o, const Point& p) {
    return o << "{" << p.x << " " << p.y << "}";
  }
};
struct Opaque {
  int secret;
};

}  // namespace

TEST(Defer, RunsLifoAtNormalReturn) {
  std::vector<int> order;
  gocxx::func([&](gocxx::Defer& defer) {
    defer([&] { order.push_back(1); });
    defer([&] { order.push_back(2); });
    defer([&] { order.push_back(3); });
    order.push_back(0);
  });
  EXPECT_EQ(order, (std::vector<int>{0, 3, 2, 1}));
}

TEST(Defer, ArgumentsAreEvaluatedAtDeferTime) {
  // Go: for i := range []int{1, 2, 3} { defer fmt.Println(i) } prints 2 1 0.
  std::ostringstream out;
  auto print = [&out](int i) { out << i << ' '; };
  gocxx::func([&](gocxx::Defer& defer) {
    for (int i = 0; i < 3; ++i) defer(print, i);
  });
  EXPECT_EQ(out.str(), "2 1 0 ");
}

TEST(Defer, ClosureSeesTheVariableAsItIsAtExit) {
  // Deferred calls run after the body has returned, so a variable they read by reference lives
  // outside the body, like Go's named results.
  int seen = 0;
  int x = 0;
  gocxx::func([&](gocxx::Defer& defer) {
    x = 1;
    defer([&] { seen = x; });  // by reference: reads x when it runs
    x = 2;
  });
  EXPECT_EQ(seen, 2);
}

TEST(Defer, ManyDefersSpillPastTheInlineBufferInOrder) {
  std::vector<int> order;
  gocxx::func([&](gocxx::Defer& defer) {
    for (int i = 0; i < 200; ++i) {
      std::string big(100, char('a' + i % 26));  // captured copies make each call large
      defer([&order, i, big] { order.push_back(i + int(big.size()) * 0); });
    }
  });
  ASSERT_EQ(order.size(), 200u);
  for (int i = 0; i < 200; ++i) EXPECT_EQ(order[i], 199 - i);
}

TEST(Defer, CommonFormsAllocateNothing) {
  int sink = 0;
  auto add = [&sink](int v) { sink += v; };
  g_allocations = 0;
  g_counting = true;
  for (int i = 0; i < 1000; ++i) {
    gocxx::func([&](gocxx::Defer& defer) {
      defer([&sink] { ++sink; });  // no-argument
      defer(add, i);                // with an argument evaluated now
      int local = i;
      defer([&sink, local] { sink += local; });  // closure with a capture
    });
  }
  g_counting = false;
  EXPECT_EQ(g_allocations.load(), 0);
  EXPECT_GT(sink, 0);
}

TEST(Recover, StopsThePanicAndSetsTheNamedResult) {
  auto safe_div = [](int a, int b) {
    int result = 0;
    gocxx::func([&](gocxx::Defer& defer) {
      defer([&] {
        if (auto p = gocxx::recover()) result = -1;
      });
      if (b == 0) gocxx::panic("division by zero");
      result = a / b;
    });
    return result;
  };
  EXPECT_EQ(safe_div(6, 3), 2);
  EXPECT_EQ(safe_div(1, 0), -1);
}

TEST(Recover, ReturnsThePanicValueOfAnyType) {
  auto value_of = [](auto panic_with) {
    std::optional<gocxx::PanicValue> got;
    gocxx::func([&](gocxx::Defer& defer) {
      defer([&] { got = gocxx::recover(); });
      gocxx::panic(panic_with);
    });
    return got;
  };
  auto s = value_of("text");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->message(), "text");
  ASSERT_TRUE(s->as<std::string>());
  auto n = value_of(42);
  ASSERT_TRUE(n && n->as<int>());
  EXPECT_EQ(*n->as<int>(), 42);
  EXPECT_EQ(n->message(), "42");
  auto e = value_of(gocxx::errors::make("broken pipe"));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->message(), "broken pipe");
  auto p = value_of(Point{1, 2});
  ASSERT_TRUE(p);
  EXPECT_EQ(p->message(), "{1 2}");
  EXPECT_EQ(p->as<Point>()->y, 2);
  auto o = value_of(Opaque{7});
  ASSERT_TRUE(o && o->as<Opaque>());
  EXPECT_EQ(o->as<Opaque>()->secret, 7);
  EXPECT_FALSE(o->message().empty());
}

TEST(Recover, ValuesPrintAsGosPrintDoes) {
  // Go's printpanicval; the expected strings are go1.19's output for the same panic(v).
  auto message = [](auto v) { return gocxx::PanicValue(v).message(); };
  EXPECT_EQ(message(1.5), "+1.500000e+000");
  EXPECT_EQ(message(1.5f), "+1.500000e+000");
  EXPECT_EQ(message(-2.25), "-2.250000e+000");
  EXPECT_EQ(message(0.0), "+0.000000e+000");
  EXPECT_EQ(message(-0.0), "-0.000000e+000");
  EXPECT_EQ(message(std::nan("")), "NaN");
  EXPECT_EQ(message(HUGE_VAL), "+Inf");
  EXPECT_EQ(message(-HUGE_VAL), "-Inf");
  EXPECT_EQ(message(1e100), "+1.000000e+100");
  EXPECT_EQ(message(1e-5), "+1.000000e-005");
  EXPECT_EQ(message(0.1), "+1.000000e-001");
  EXPECT_EQ(message(1.0 / 3), "+3.333333e-001");
  EXPECT_EQ(message(1.0f / 3), "+3.333333e-001");
  EXPECT_EQ(message(123456789.0), "+1.234568e+008");
  EXPECT_EQ(message(9.9999999), "+1.000000e+001");
  EXPECT_EQ(message(1.7976931348623157e308), "+1.797693e+308");
  EXPECT_EQ(message(5e-324), "+4.940656e-324");
  EXPECT_EQ(message(std::complex<double>(1, -2)), "(+1.000000e+000-2.000000e+000i)");
  EXPECT_EQ(message(std::int8_t{-5}), "-5");  // Go's int8 and uint8 (byte) are numbers
  EXPECT_EQ(message(std::uint8_t{200}), "200");
  EXPECT_EQ(message(U'x'), "120");  // a rune
  EXPECT_EQ(message('x'), "x");     // C++'s char is text
  EXPECT_EQ(message(true), "true");
  EXPECT_EQ(message(gocxx::errors::make("broken pipe")), "broken pipe");
  struct Custom : gocxx::ErrorBase {
    std::string message() const override { return "custom error"; }
  };
  EXPECT_EQ(message(Custom{}), "custom error");  // any error type: its Error()
  EXPECT_EQ(message(Point{1, 2}), "{1 2}");     // other types: as before
}

TEST(Recover, DeferringRecoverItselfDoesNotStopThePanic) {
  // Go's `defer recover()`: recover is the deferred function, not called by one, so it returns
  // nil and the panic goes on to the next deferred call.
  std::string seen_outside;
  bool returned_normally = false;
  gocxx::func([&](gocxx::Defer& outer) {
    outer([&] {
      if (auto p = gocxx::recover()) seen_outside = p->message();
    });
    gocxx::func([&](gocxx::Defer& defer) {
      defer(&gocxx::recover);
      defer(gocxx::recover);
      gocxx::panic("goes on");
    });
    returned_normally = true;
  });
  EXPECT_FALSE(returned_normally);
  EXPECT_EQ(seen_outside, "goes on");
}

namespace {
[[gnu::noinline]] bool helper_recovers() { return gocxx::recover().has_value(); }
}  // namespace

TEST(Recover, PlainFunctionCalledByTheDeferredCallRecovers) {
  // Unlike Go (where recover must be called by the deferred function itself): gocxx sees func
  // scopes, not C++ frames, so a helper without a func scope of its own counts as the deferred
  // call (documented at gocxx::recover).
  bool recovered = false;
  gocxx::func([&](gocxx::Defer& defer) {
    defer([&] { recovered = helper_recovers(); });
    gocxx::panic("x");
  });
  EXPECT_TRUE(recovered);
}

TEST(Recover, ReturnsNothingOutsideADeferredCallOrWhenNotPanicking) {
  EXPECT_FALSE(gocxx::recover());  // not panicking at all
  bool in_defer_without_panic = true;
  bool in_nested_body = true;
  bool second_recover = true;
  gocxx::func([&](gocxx::Defer& defer) {
    defer([&] { in_defer_without_panic = gocxx::recover().has_value(); });
  });
  gocxx::func([&](gocxx::Defer& defer) {
    defer([&] {
      // A function called by the deferred call, with its own scope: its body is not a
      // deferred call, so recover() there returns nothing (Go: recover must be called by the
      // deferred function itself).
      gocxx::func([&](gocxx::Defer&) { in_nested_body = gocxx::recover().has_value(); });
      EXPECT_TRUE(gocxx::recover());
      second_recover = gocxx::recover().has_value();
    });
    gocxx::panic("x");
  });
  EXPECT_FALSE(in_defer_without_panic);
  EXPECT_FALSE(in_nested_body);
  EXPECT_FALSE(second_recover);
}

TEST(Recover, DeferredCallsAfterTheRecoveringOneRunNormally) {
  std::vector<std::string> log;
  gocxx::func([&](gocxx::Defer& defer) {
    defer([&] { log.push_back(gocxx::recover() ? "outer saw panic" : "outer normal"); });
    defer([&] { log.push_back(gocxx::recover() ? "recovered" : "nothing"); });
    gocxx::panic("p");
  });
  EXPECT_EQ(log, (std::vector<std::string>{"recovered", "outer normal"}));
}

TEST(Recover, NestedScopesUnwindInnerFirst) {
  std::vector<std::string> log;
  gocxx::func([&](gocxx::Defer& outer) {
    outer([&] {
      auto p = gocxx::recover();
      log.push_back("outer recovered " + (p ? p->message() : std::string("nothing")));
    });
    gocxx::func([&](gocxx::Defer& inner) {
      inner([&] { log.push_back("inner deferred"); });
      gocxx::panic("deep");
    });
    log.push_back("not reached");
  });
  EXPECT_EQ(log, (std::vector<std::string>{"inner deferred", "outer recovered deep"}));
}

TEST(Recover, ValueReturningScopeYieldsZeroAfterRecovery) {
  int r = gocxx::func([](gocxx::Defer& defer) -> int {
    defer([] { gocxx::recover(); });
    gocxx::panic("x");
  });
  EXPECT_EQ(r, 0);
  EXPECT_EQ(gocxx::func([](gocxx::Defer&) { return 5; }), 5);
}

TEST(Recover, PanicInDeferredCallReplacesTheFirst) {
  std::string last;
  gocxx::func([&](gocxx::Defer& outer) {
    outer([&] {
      auto p = gocxx::recover();
      last = p ? p->message() : "";
    });
    gocxx::func([&](gocxx::Defer& defer) {
      defer([] { gocxx::panic("second"); });
      gocxx::panic("first");
    });
  });
  EXPECT_EQ(last, "second");
}

TEST(Recover, CppExceptionThatReplacesAPanicKeepsItsType) {
  EXPECT_THROW(gocxx::func([](gocxx::Defer& defer) {
                 defer([] { throw std::out_of_range("B"); });
                 gocxx::panic("A");
               }),
               std::out_of_range);
  // Recovered, it is the panic value, once.
  std::string got;
  bool again = true;
  gocxx::func([&](gocxx::Defer& outer) {
    outer([&] {
      if (auto p = gocxx::recover()) got = p->message();
      again = gocxx::recover().has_value();
    });
    gocxx::func([](gocxx::Defer& defer) {
      defer([] { throw std::out_of_range("B"); });
      gocxx::panic("A");
    });
  });
  EXPECT_EQ(got, "B");
  EXPECT_FALSE(again);
}

TEST(Recover, CppExceptionsUnwindLikePanics) {
  std::string got;
  bool deferred_ran = false;
  gocxx::func([&](gocxx::Defer& defer) {
    defer([&] {
      if (auto p = gocxx::recover()) got = p->message();
    });
    defer([&] { deferred_ran = true; });
    throw std::runtime_error("io failure");
  });
  EXPECT_TRUE(deferred_ran);
  EXPECT_EQ(got, "io failure");
  // Unrecovered, the original C++ exception keeps its type for outer handlers.
  EXPECT_THROW(gocxx::func([](gocxx::Defer& defer) {
                 defer([] {});
                 throw std::out_of_range("kept");
               }),
               std::out_of_range);
}

TEST(Recover, RuntimePanicsAreRecoverable) {
  run_with(2, [] {
    std::string message;
    gocxx::func([&](gocxx::Defer& defer) {
      defer([&] {
        if (auto p = gocxx::recover()) message = p->message();
      });
      gocxx::Chan<int> c(1);
      c.close();
      c.send(1);
    });
    EXPECT_EQ(message, "send on closed channel");
    gocxx::func([&](gocxx::Defer& defer) {
      defer([&] {
        if (auto p = gocxx::recover()) message = p->message();
      });
      gocxx::sync::WaitGroup wg;
      wg.done();
    });
    EXPECT_EQ(message, "sync: negative WaitGroup counter");
  });
}

TEST(Recover, PanicsCrossTheRuntimesOwnFrames) {
  // Through a select callback, Once::call and blocking(): none of them swallows the panic.
  run_with(2, [] {
    int recovered = 0;
    auto expect_recovered = [&](auto body) {
      gocxx::func([&](gocxx::Defer& defer) {
        defer([&] {
          if (gocxx::recover()) ++recovered;
        });
        body();
      });
    };
    gocxx::Chan<int> ready(1);
    ready.send(1);
    expect_recovered([&] {
      gocxx::select(gocxx::recv_case(ready, [](std::optional<int>) { gocxx::panic("select"); }));
    });
    gocxx::sync::Once once;
    expect_recovered([&] { once.call([] { gocxx::panic("once"); }); });
    bool ran_again = false;
    once.call([&] { ran_again = true; });
    EXPECT_FALSE(ran_again);  // Go: Do counts as done even if f panicked
    expect_recovered([&] { gocxx::blocking([] { gocxx::panic("blocking"); }); });
    // The P came back after the panic left blocking(): goroutines still run.
    gocxx::Chan<int> c;
    gocxx::go([c]() mutable { c.send(7); });
    EXPECT_EQ(c.recv(), 7);
    EXPECT_EQ(recovered, 3);
  });
}

TEST(Recover, WorksAfterTheDeferredCallMigratesBetweenThreads) {
  run_with(4, [] {
    gocxx::sync::WaitGroup wg;
    std::atomic<int> recovered{0};
    for (int i = 0; i < 16; ++i) {
      wg.add(1);
      gocxx::go([&] {
        gocxx::func([&](gocxx::Defer& defer) {
          defer([&] { wg.done(); });
          defer([&] {
            // Not inside a catch block: parking there would carry this thread's stack of caught
            // exceptions to whichever thread the goroutine resumes on.
            EXPECT_EQ(std::current_exception(), nullptr);
            gocxx::time::sleep(1ms);  // parks; may resume on another thread
            gocxx::yield();
            if (gocxx::recover()) recovered.fetch_add(1);
          });
          gocxx::panic("moved");
        });
      });
    }
    wg.wait();
    EXPECT_EQ(recovered.load(), 16);
  });
}

// ---- unrecovered panics end the program with Go's report ----------------------------------

class DeferDeathTest : public testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

namespace {
}  // namespace

TEST_F(DeferDeathTest, DeferredCallsRunBeforeTheReport) {
  EXPECT_EXIT(in_goroutine([] {
                gocxx::func([](gocxx::Defer& defer) {
                  defer([] { std::fprintf(stderr, "deferred ran\n"); });
                  gocxx::panic("boom");
                });
              }),
              testing::ExitedWithCode(2), "deferred ran\n(.|\n)*panic: boom\n\ngoroutine [0-9]+");
}

TEST_F(DeferDeathTest, PanicDuringPanicPrintsBoth) {
  EXPECT_EXIT(in_goroutine([] {
                gocxx::func([](gocxx::Defer& defer) {
                  defer([] { gocxx::panic("B"); });
                  gocxx::panic("A");
                });
              }),
              testing::ExitedWithCode(2), "panic: A\n\tpanic: B\n\ngoroutine");
}

TEST_F(DeferDeathTest, RecoveredThenPanicAgainIsMarkedRecovered) {
  EXPECT_EXIT(in_goroutine([] {
                gocxx::func([](gocxx::Defer& defer) {
                  defer([] {
                    gocxx::recover();
                    gocxx::panic("B");
                  });
                  gocxx::panic("A");
                });
              }),
              testing::ExitedWithCode(2), "panic: A \\[recovered\\]\n\tpanic: B\n\ngoroutine");
}

// A C++ exception from a deferred call replaces the panic as a panic does, and the report
// still shows both (it keeps its type, so the link is kept beside it).
TEST_F(DeferDeathTest, CppExceptionDuringPanicPrintsBoth) {
  EXPECT_EXIT(in_goroutine([] {
                gocxx::func([](gocxx::Defer& defer) {
                  defer([] { throw std::runtime_error("B"); });
                  gocxx::panic("A");
                });
              }),
              testing::ExitedWithCode(2), "^panic: A\n\tpanic: B\n\ngoroutine");
  EXPECT_EXIT(in_goroutine([] {
                gocxx::func([](gocxx::Defer& defer) {
                  defer([] { throw std::runtime_error("C"); });
                  defer([] { throw std::logic_error("B"); });
                  gocxx::panic("A");
                });
              }),
              testing::ExitedWithCode(2), "^panic: A\n\tpanic: B\n\tpanic: C\n\ngoroutine");
  EXPECT_EXIT(in_goroutine([] {  // across func scopes
                gocxx::func([](gocxx::Defer& outer) {
                  outer([] { gocxx::panic("C"); });
                  gocxx::func([](gocxx::Defer& defer) {
                    defer([] { throw std::runtime_error("B"); });
                    gocxx::panic("A");
                  });
                });
              }),
              testing::ExitedWithCode(2), "^panic: A\n\tpanic: B\n\tpanic: C\n\ngoroutine");
  EXPECT_EXIT(in_goroutine([] {
                gocxx::func([](gocxx::Defer& defer) {
                  defer([] { gocxx::panic("B"); });
                  throw std::runtime_error("A");
                });
              }),
              testing::ExitedWithCode(2), "^panic: A\n\tpanic: B\n\ngoroutine");
}

TEST_F(DeferDeathTest, CppExceptionAfterRecoverIsMarkedRecovered) {
  EXPECT_EXIT(in_goroutine([] {
                gocxx::func([](gocxx::Defer& defer) {
                  defer([] {
                    gocxx::recover();
                    throw std::runtime_error("B");
                  });
                  gocxx::panic("A");
                });
              }),
              testing::ExitedWithCode(2), "^panic: A \\[recovered\\]\n\tpanic: B\n\ngoroutine");
  EXPECT_EXIT(in_goroutine([] {
                gocxx::func([](gocxx::Defer& defer) {
                  defer([] {
                    gocxx::recover();
                    gocxx::panic("B");
                  });
                  throw std::runtime_error("A");
                });
              }),
              testing::ExitedWithCode(2), "^panic: A \\[recovered\\]\n\tpanic: B\n\ngoroutine");
}

TEST_F(DeferDeathTest, FloatPanicPrintsAsGo) {
  EXPECT_EXIT(in_goroutine([] { gocxx::panic(1.5); }), testing::ExitedWithCode(2),
              "^panic: \\+1\\.500000e\\+000\n\ngoroutine");
}

TEST_F(DeferDeathTest, ReportShowsThePanicSite) {
  EXPECT_EXIT(in_goroutine([] {
                gocxx::func([](gocxx::Defer& defer) {
                  defer([] {});
                  gocxx::panic(Point{3, 4});
                });
              }),
              testing::ExitedWithCode(2), "panic: \\{3 4\\}\n\ngoroutine [0-9]+ \\[running\\]:\n(.|\n)*defer_test.cpp");
}

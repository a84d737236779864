// gocxx::select, after the properties Go's select tests check: uniform choice among ready cases,
// default handling, duplicate and nil channels, closed channels, blocking selects woken by
// partners, callbacks, and stress over overlapping channels.
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "runtime/goroutine.hpp"
#include "test_util.hpp"

namespace {

using gocxx::Chan;
using gocxx::default_case;
using gocxx::recv_case;
using gocxx::select;
using gocxx::send_case;
using gocxx::test::run_with;
using gocxx::test::parked_for;
using gocxx::test::go_until_parked;
using gocxx::test::join_goroutines;
using gocxx::test::run_joined;
using gocxx::test::scaled;
using gocxx::detail::WaitReason;

// ---- helpers ----------------------------------------------------------------------------------

// Receives from c, failing the test instead of hanging if nothing arrives for a long time.
template <class T>
std::optional<T> recv_or_fail(Chan<T> c) {
  std::optional<T> got;
  bool timed_out = false;
  gocxx::time::Timer guard(std::chrono::seconds(30));  // stopped when it goes out of scope
  select(recv_case(c, [&](std::optional<T> v) { got = std::move(v); }),
         recv_case(guard.c(), [&] { timed_out = true; }));
  EXPECT_FALSE(timed_out) << "nothing received";
  return got;
}

// Checks that `count` is consistent with `trials` draws of probability p, to within 7 standard
// deviations: a correct implementation fails this with probability about 1e-11 per check.
void expect_binomial(int count, int trials, double p, const char* what) {
  double mean = trials * p;
  double sigma = std::sqrt(trials * p * (1 - p));
  EXPECT_LE(std::abs(count - mean), 7 * sigma)
      << what << ": chosen " << count << " times in " << trials << " trials, expected about "
      << mean << " (sigma " << sigma << ")";
}

// ---- fairness ---------------------------------------------------------------------------------

// Go's TestSelectFairness: with several cases always ready (and some never ready), each ready
// case is chosen uniformly.
TEST(Select, ChoosesUniformlyAmongReadyReceives) {
  run_joined(2, [] {
    constexpr int kReady = 4;
    const int trials = 40000;
    std::array<Chan<int>, kReady> c{Chan<int>(1), Chan<int>(1), Chan<int>(1), Chan<int>(1)};
    for (int i = 0; i < kReady; ++i) c[i].send(i);
    Chan<int> never1, never2;  // unbuffered, no partner: never ready
    std::array<int, kReady + 2> counts{};
    int mismatched = 0;
    for (int t = 0; t < trials; ++t) {
      int value = -1;
      auto take = [&](std::optional<int> v) { value = v.value_or(-1); };
      // Argument positions: never1=0, c0=1, c1=2, never2=3, c2=4, c3=5.
      int chosen = select(recv_case(never1, take), recv_case(c[0], take), recv_case(c[1], take),
                          recv_case(never2, take), recv_case(c[2], take), recv_case(c[3], take));
      ASSERT_GE(chosen, 0);
      ASSERT_LT(chosen, kReady + 2);
      ++counts[chosen];
      if (chosen == 0 || chosen == 3) continue;
      int k = chosen < 3 ? chosen - 1 : chosen - 2;
      if (value != k) ++mismatched;
      c[k].send(k);  // ready again
    }
    EXPECT_EQ(mismatched, 0) << "the callback of another case ran";
    EXPECT_EQ(counts[0] + counts[3], 0) << "a never-ready case was chosen";
    for (int pos : {1, 2, 4, 5}) expect_binomial(counts[pos], trials, 1.0 / kReady, "ready case");
  });
}

TEST(Select, ChoosesUniformlyAmongMixedSendsAndReceives) {
  run_joined(1, [] {
    const int trials = 40000;
    Chan<int> r0(1), r1(1), s0(1), s1(1);
    r0.send(0);
    r1.send(1);
    std::array<int, 5> counts{};
    for (int t = 0; t < trials; ++t) {
      int chosen = select(recv_case(r0), send_case(s0, 2), default_case(), recv_case(r1),
                          send_case(s1, 3));
      ASSERT_NE(chosen, 2) << "default chosen although cases were ready";
      ++counts[chosen];
      switch (chosen) {
        case 0: r0.send(0); break;
        case 3: r1.send(1); break;
        case 1: EXPECT_EQ(s0.recv(), 2); break;
        case 4: EXPECT_EQ(s1.recv(), 3); break;
      }
    }
    EXPECT_EQ(counts[2], 0);
    for (int i : {0, 1, 3, 4}) expect_binomial(counts[i], trials, 0.25, "case");
  });
}

// ---- default and positions ----------------------------------------------------------------------

TEST(Select, OnlyDefault) {
  run_joined(1, [] {
    int ran = 0;
    EXPECT_EQ(select(default_case([&] { ++ran; })), 0);
    EXPECT_EQ(ran, 1);
    EXPECT_EQ(select(default_case()), 0);
  });
}

TEST(Select, DefaultRunsOnlyWhenNothingIsReady) {
  run_joined(2, [] {
    Chan<int> empty(1), full(1), unbuffered;
    full.send(1);
    int ran_default = 0, ran_other = 0;
    auto other = [&] { ++ran_other; };
    // Nothing ready: receive from empty, send to full, unbuffered without a partner.
    int chosen = select(recv_case(empty, other), default_case([&] { ++ran_default; }),
                        send_case(full, 2, other), recv_case(unbuffered, other),
                        send_case(unbuffered, 3, other));
    EXPECT_EQ(chosen, 1);
    EXPECT_EQ(ran_default, 1);
    EXPECT_EQ(ran_other, 0);
    EXPECT_EQ(full.len(), 1u);
    EXPECT_EQ(empty.len(), 0u);

    // One case ready: it always wins over the default.
    Chan<int> ready(1);
    int defaults = 0;
    for (int i = 0; i < 2000; ++i) {
      ready.send(i);
      int got = -1;
      chosen = select(default_case([&] { ++defaults; }), recv_case(empty),
                      recv_case(ready, [&](std::optional<int> v) { got = *v; }));
      EXPECT_EQ(chosen, 2);
      EXPECT_EQ(got, i);
    }
    EXPECT_EQ(defaults, 0);
  });
}

TEST(Select, ReturnsArgumentPosition) {
  run_joined(1, [] {
    Chan<int> a(1), b(1), c(1);
    std::array<int, 4> ran{};
    auto run = [&] {
      return select(recv_case(a, [&] { ++ran[0]; }), default_case([&] { ++ran[1]; }),
                    recv_case(b, [&] { ++ran[2]; }), send_case(c, 0, [&] { ++ran[3]; }));
    };
    c.send(0);  // c full: its send case is not ready
    EXPECT_EQ(run(), 1);
    b.send(1);
    EXPECT_EQ(run(), 2);
    a.send(1);
    EXPECT_EQ(run(), 0);
    c.recv();
    EXPECT_EQ(run(), 3);
    EXPECT_EQ(ran, (std::array<int, 4>{1, 1, 1, 1}));
  });
}

// A select with one case and a default (which may take a shortcut without locking) still sees
// every kind of readiness: a parked partner, buffered values or room, and close.
TEST(Select, SingleNonblockingCaseSeesEveryKindOfReadiness) {
  for (int procs : {1, 2}) {
    SCOPED_TRACE(procs);
    run_joined(procs, [] {
      // Unbuffered with a parked sender: the receive proceeds.
      Chan<int> u;
      go_until_parked(WaitReason::kChanSend, [u]() mutable { u.send(1); });
      int got = -1;
      EXPECT_EQ(select(recv_case(u, [&](std::optional<int> v) { got = v.value_or(-2); }),
                       default_case()),
                0);
      EXPECT_EQ(got, 1);
      // Unbuffered with a parked receiver: the send proceeds.
      Chan<int> result(1);
      go_until_parked(WaitReason::kChanReceive,
                      [u, result]() mutable { result.send(u.recv().value_or(-1)); });
      EXPECT_EQ(select(send_case(u, 2), default_case()), 0);
      EXPECT_EQ(result.recv(), 2);
      // Nobody there: both take the default.
      EXPECT_EQ(select(recv_case(u), default_case()), 1);
      EXPECT_EQ(select(send_case(u, 3), default_case()), 1);

      // Buffered: room to send, then a value to receive, then full.
      Chan<int> b(1);
      EXPECT_EQ(select(recv_case(b), default_case()), 1);
      EXPECT_EQ(select(send_case(b, 4), default_case()), 0);
      EXPECT_EQ(select(send_case(b, 5), default_case()), 1);
      // Full, with a parked sender behind the buffer: the receive gets the buffer's head.
      go_until_parked(WaitReason::kChanSend, [b]() mutable { b.send(6); });
      got = -1;
      EXPECT_EQ(select(recv_case(b, [&](std::optional<int> v) { got = v.value_or(-2); }),
                       default_case()),
                0);
      EXPECT_EQ(got, 4);
      EXPECT_EQ(b.recv(), 6);
      // Empty buffered channel with a parked receiver: the send goes to it.
      go_until_parked(WaitReason::kChanReceive,
                      [b, result]() mutable { result.send(b.recv().value_or(-1)); });
      EXPECT_EQ(select(send_case(b, 7), default_case()), 0);
      EXPECT_EQ(result.recv(), 7);
      EXPECT_EQ(b.len(), 0u);

      // Closed: the receive is ready (with nullopt).
      b.close();
      got = -1;
      EXPECT_EQ(select(recv_case(b, [&](std::optional<int> v) { got = v.value_or(-2); }),
                       default_case()),
                0);
      EXPECT_EQ(got, -2);
    });
  }
}

// A case made from a channel variable refers to that channel; one made from a temporary keeps
// the temporary alive for the select. Either way, what the channel holds is released with it.
TEST(Select, ChannelLifetimeInCases) {
  run_joined(2, [] {
    auto value = std::make_shared<int>(1);
    // A temporary buffered channel: the sent copy lives in its buffer until the channel dies at
    // the end of the full expression.
    EXPECT_EQ(select(send_case(Chan<std::shared_ptr<int>>(1), value)), 0);
    EXPECT_EQ(value.use_count(), 1);
    // A named channel keeps the copy until it is received.
    Chan<std::shared_ptr<int>> named(1);
    EXPECT_EQ(select(send_case(named, value)), 0);
    EXPECT_EQ(value.use_count(), 2);
    EXPECT_EQ(named.recv(), value);
    EXPECT_EQ(value.use_count(), 1);

    // The callback may drop the last handle to the channel it was chosen on.
    auto c = std::make_unique<Chan<int>>(1);
    c->send(8);
    int got = -1;
    EXPECT_EQ(select(recv_case(*c, [&](std::optional<int> v) {
                       c.reset();
                       got = v.value_or(-1);
                     })),
              0);
    EXPECT_EQ(got, 8);
    EXPECT_EQ(c, nullptr);

    // A blocked select on a temporary channel that only a partner's copy refers to.
    Chan<int> result(1);
    Chan<Chan<int>> handoff(1);
    go_until_parked(WaitReason::kSelect, [handoff, result]() mutable {
      Chan<int> mine;
      handoff.send(mine);
      int r = -1;
      select(recv_case(std::move(mine), [&](std::optional<int> v) { r = v.value_or(-2); }));
      result.send(r);
    });
    handoff.recv()->send(9);
    EXPECT_EQ(result.recv(), 9);
  });
}

// ---- duplicate channels -------------------------------------------------------------------------

TEST(Select, SameChannelInTwoReceiveCases) {
  run_joined(1, [] {
    Chan<int> c(1);
    std::array<int, 2> counts{};
    const int trials = 400;
    for (int t = 0; t < trials; ++t) {
      c.send(t);
      int got = -1;
      auto take = [&](std::optional<int> v) { got = *v; };
      int chosen = select(recv_case(c, take), recv_case(c, take));
      ASSERT_TRUE(chosen == 0 || chosen == 1);
      EXPECT_EQ(got, t);
      ++counts[chosen];
      EXPECT_EQ(c.len(), 0u);  // exactly one value taken
    }
    expect_binomial(counts[0], trials, 0.5, "first case");
  });
}

TEST(Select, SendAndReceiveOnOneBufferedChannel) {
  run_joined(1, [] {
    Chan<int> c(1);
    // Empty: only the send can proceed.
    EXPECT_EQ(select(recv_case(c), send_case(c, 5)), 1);
    EXPECT_EQ(c.len(), 1u);
    // Full: only the receive can proceed.
    int got = -1;
    EXPECT_EQ(select(recv_case(c, [&](std::optional<int> v) { got = *v; }), send_case(c, 6)), 0);
    EXPECT_EQ(got, 5);
    EXPECT_EQ(c.len(), 0u);

    // Half full: both are ready and both get chosen.
    Chan<int> h(2);
    h.send(0);
    std::array<int, 2> counts{};
    for (int t = 0; t < 200; ++t) {
      int chosen = select(send_case(h, 1), recv_case(h));
      ++counts[chosen];
      if (chosen == 0) {
        h.recv();
      } else {
        h.send(0);
      }
      EXPECT_EQ(h.len(), 1u);
    }
    EXPECT_GT(counts[0], 0);
    EXPECT_GT(counts[1], 0);
  });
}

// A select never pairs its own send with its own receive.
TEST(Select, SendAndReceiveOnOneUnbufferedChannel) {
  for (int procs : {1, 2}) {
    SCOPED_TRACE(procs);
    run_joined(procs, [] {
      Chan<int> c;
      EXPECT_EQ(select(send_case(c, 1), recv_case(c), default_case()), 2);

      // Blocked on both directions of c: a partner's receive takes the send...
      Chan<int> result(1);
      go_until_parked(WaitReason::kSelect, [c, result]() mutable {
        result.send(select(send_case(c, 7), recv_case(c)));
      });
      EXPECT_EQ(c.recv(), 7);
      EXPECT_EQ(result.recv(), 0);
      // ...and a partner's send completes the receive.
      int got = -1;
      go_until_parked(WaitReason::kSelect, [c, result, &got]() mutable {
        result.send(select(send_case(c, 7), recv_case(c, [&](std::optional<int> v) { got = *v; })));
      });
      c.send(8);
      EXPECT_EQ(result.recv(), 1);
      EXPECT_EQ(got, 8);
    });
  }
}

// Go's TestSelectDuplicateChannel: a goroutine queued twice on one channel (by one select) and
// woken through another channel must leave that channel's queue intact for the next waiter.
TEST(Select, DuplicateChannelWaitersAreWithdrawnCleanly) {
  for (int procs : {1, 2, 4}) {
    SCOPED_TRACE(procs);
    run_joined(procs, [] {
      Chan<int> c, d, e;
      go_until_parked(WaitReason::kSelect, [c, d, e]() mutable {
        select(recv_case(c), recv_case(c), recv_case(d));
        e.send(9);
      });
      Chan<int> b_got(1);
      go_until_parked(WaitReason::kChanReceive,
                      [c, b_got]() mutable { b_got.send(c.recv().value_or(-1)); });
      d.send(7);              // wakes the select, which withdraws its two waiters from c
      EXPECT_EQ(e.recv(), 9);
      c.send(8);              // must reach the plain receiver
      EXPECT_EQ(b_got.recv(), 8);
    });
  }
}

// ---- closed and nil channels ----------------------------------------------------------------------

TEST(Select, ReceiveFromClosedChannelYieldsNullopt) {
  run_joined(2, [] {
    Chan<int> c(2);
    c.send(1);
    c.close();
    std::optional<int> got;
    bool called = false;
    auto take = [&](std::optional<int> v) {
      called = true;
      got = v;
    };
    EXPECT_EQ(select(recv_case(c, take), default_case()), 0);
    EXPECT_EQ(got, 1);  // the buffer drains first
    for (int i = 0; i < 3; ++i) {
      called = false;
      got = 42;
      EXPECT_EQ(select(recv_case(c, take), default_case()), 0);  // closed is always ready
      EXPECT_TRUE(called);
      EXPECT_EQ(got, std::nullopt);
    }

    // A blocked select is woken by close.
    Chan<int> u;
    Chan<int> result(1);
    go_until_parked(WaitReason::kSelect, [u, result]() mutable {
      int r = -2;
      select(recv_case(u, [&](std::optional<int> v) { r = v.value_or(-1); }),
             recv_case(Chan<int>::nil()));
      result.send(r);
    });
    u.close();
    EXPECT_EQ(result.recv(), -1);
  });
}

TEST(Select, NilChannelsAreNeverReady) {
  run_joined(2, [] {
    auto nil = Chan<int>::nil();
    EXPECT_EQ(select(recv_case(nil), send_case(nil, 1), default_case()), 2);
    Chan<int> ready(1);
    for (int i = 0; i < 200; ++i) {
      ready.send(i);
      EXPECT_EQ(select(recv_case(nil), recv_case(ready), send_case(nil, 1)), 1);
    }
    // Blocking with nil cases: only the real channel can wake it.
    Chan<int> c;
    Chan<int> result(1);
    go_until_parked(WaitReason::kSelect, [nil, c, result]() mutable {
      result.send(select(send_case(nil, 1), recv_case(nil), recv_case(c)));
    });
    c.send(3);
    EXPECT_EQ(result.recv(), 2);
  });
}

// select() with no cases, and a select over nil channels only, block forever. The goroutines
// are abandoned when main returns, as in Go.
TEST(Select, EmptySelectBlocksForever) {
  run_with(2, [] {
    std::atomic<int> returned{0};
    go_until_parked(WaitReason::kSelectNoCases, [&returned] {
      select();
      returned.fetch_add(1);
    });
    go_until_parked(WaitReason::kSelect, [&returned] {
      select(recv_case(Chan<int>::nil()), send_case(Chan<int>::nil(), 1));
      returned.fetch_add(1);
    });
    for (int i = 0; i < 100; ++i) gocxx::yield();
    gocxx::time::sleep(std::chrono::milliseconds(2));
    EXPECT_EQ(returned.load(), 0);
    EXPECT_EQ(gocxx::num_goroutine(), 3);
  });
}

// ---- blocking selects and their partners ----------------------------------------------------------

TEST(Select, BlockedSelectIsCompletedByAPartner) {
  for (int procs : {1, 2, 4}) {
    SCOPED_TRACE(procs);
    run_joined(procs, [] {
      Chan<int> a, b, result(1);
      // A send case completed by a receiver.
      go_until_parked(WaitReason::kSelect, [a, b, result]() mutable {
        result.send(select(recv_case(a), send_case(b, 77)));
      });
      EXPECT_EQ(b.recv(), 77);
      EXPECT_EQ(result.recv(), 1);
      // A receive case completed by a sender.
      int got = -1;
      go_until_parked(WaitReason::kSelect, [a, b, result, &got]() mutable {
        result.send(select(recv_case(a, [&](std::optional<int> v) { got = *v; }),
                           send_case(b, 77)));
      });
      a.send(5);
      EXPECT_EQ(result.recv(), 0);
      EXPECT_EQ(got, 5);
    });
  }
}

// Two partners race to complete one blocked select: exactly one succeeds, the other stays
// queued on its channel and its value is not lost.
TEST(Select, OnlyOneCaseOfABlockedSelectFires) {
  const int rounds = scaled(1000);
  for (int procs : {2, 4}) {
    SCOPED_TRACE(procs);
    run_joined(procs, [rounds] {
      for (int r = 0; r < rounds; ++r) {
        Chan<int> a, b, chosen(1);
        go_until_parked(WaitReason::kSelect, [a, b, chosen]() mutable {
          chosen.send(select(recv_case(a), recv_case(b)));
        });
        gocxx::go([a]() mutable { a.send(1); });
        gocxx::go([b]() mutable { b.send(2); });
        auto which = recv_or_fail(chosen);
        ASSERT_TRUE(which.has_value());
        ASSERT_TRUE(*which == 0 || *which == 1);
        // The losing sender is still waiting on its channel.
        auto left = recv_or_fail(*which == 0 ? b : a);
        EXPECT_EQ(left, *which == 0 ? 2 : 1);
        join_goroutines();
      }
    });
  }
}

// As above, but one partner closes its channel instead of sending: either the close completes
// the select (nullopt from b) and the sender on a stays queued, or the send wins.
TEST(Select, CloseRacingASendToWakeABlockedSelect) {
  const int rounds = scaled(1000);
  run_joined(4, [rounds] {
    std::array<int, 2> wins{};
    for (int r = 0; r < rounds; ++r) {
      Chan<int> a, b, outcome(1);
      go_until_parked(WaitReason::kSelect, [a, b, outcome]() mutable {
        int value = -2;
        auto take = [&](std::optional<int> v) { value = v.value_or(-1); };
        int chosen = select(recv_case(a, take), recv_case(b, take));
        outcome.send(chosen * 10 + (value == -1 ? 0 : value));
      });
      gocxx::go([a]() mutable { a.send(1); });
      gocxx::go([b]() mutable { b.close(); });
      auto o = recv_or_fail(outcome);
      ASSERT_TRUE(o.has_value());
      if (*o == 1) {  // case 0 with the value 1: the send won
        ++wins[0];
      } else {
        ASSERT_EQ(*o, 10) << "case 1 must see the close";
        ++wins[1];
        EXPECT_EQ(recv_or_fail(a), 1);  // the sender is still waiting
      }
      join_goroutines();
    }
    EXPECT_EQ(wins[0] + wins[1], rounds);
  });
}

// Go's TestSelfSelect: two goroutines each select over a send to and a receive from one channel;
// on an unbuffered channel a goroutine must never receive its own value.
TEST(Select, SelfSelectNeverReceivesOwnValue) {
  const int n = scaled(2000);
  for (int procs : {1, 2, 4}) {
    for (std::size_t cap : {0, 10}) {
      SCOPED_TRACE(testing::Message() << "procs=" << procs << " cap=" << cap);
      run_joined(procs, [n, cap] {
        Chan<int> c(cap);
        std::atomic<int> self_receives{0};
        gocxx::sync::WaitGroup wg;
        wg.add(2);
        for (int p = 0; p < 2; ++p) {
          gocxx::go([&, p, c]() mutable {
            auto check = [&](std::optional<int> v) {
              if (cap == 0 && v == p) self_receives.fetch_add(1);
            };
            for (int i = 0; i < n; ++i) {
              if (p == 0 || i % 2 == 0) {
                select(send_case(c, p), recv_case(c, check));
              } else {
                select(recv_case(c, check), send_case(c, p));
              }
            }
            wg.done();
          });
        }
        wg.wait();
        EXPECT_EQ(self_receives.load(), 0);
      });
    }
  }
}

// Go's TestPseudoRandomSend, with the two interleavings made exact. Here a receiver is already
// waiting when the select polls two sends (of different values) on its channel: both cases are
// ready, so each is chosen about half the time.
TEST(Select, TwoReadySendsOnOneChannelAreChosenUniformly) {
  const int trials = scaled(2000);
  run_joined(2, [trials] {
    Chan<int> c;
    std::array<int, 2> n{};
    for (int i = 0; i < trials; ++i) {
      Chan<int> got(1);
      go_until_parked(WaitReason::kChanReceive,
                      [c, got]() mutable { got.send(c.recv().value()); });
      int chosen = select(send_case(c, 0), send_case(c, 1), default_case());
      ASSERT_NE(chosen, 2);
      ASSERT_EQ(got.recv(), chosen);
      ++n[chosen];
    }
    expect_binomial(n[0], trials, 0.5, "first send");
  });
}

// Here the select blocks first, queued twice on one channel; then a partner arrives. Go
// randomizes the order in which a select queues its cases on the same channel (selectgo builds
// its lock order from the random poll order for exactly this reason), so either case is chosen
// about half the time. The same holds for two receives.
TEST(Select, BlockedSelectQueuedTwiceOnOneChannelChoosesUniformly) {
  const int trials = scaled(2000);
  run_joined(2, [trials] {
    Chan<int> c;
    std::array<int, 2> sends{}, recvs{};
    for (int i = 0; i < trials; ++i) {
      Chan<int> chosen(1);
      go_until_parked(WaitReason::kSelect, [c, chosen]() mutable {
        chosen.send(select(send_case(c, 0), send_case(c, 1)));
      });
      int value = c.recv().value();
      ASSERT_EQ(chosen.recv(), value);
      ++sends[value];

      go_until_parked(WaitReason::kSelect, [c, chosen]() mutable {
        chosen.send(select(recv_case(c), recv_case(c)));
      });
      c.send(0);
      ++recvs[chosen.recv().value()];
    }
    expect_binomial(sends[0], trials, 0.5, "first of two blocked sends");
    expect_binomial(recvs[0], trials, 0.5, "first of two blocked receives");
  });
}

// Go's TestNonblockRecvRace: a buffered value racing with close is always seen as ready (as the
// value or as the close) by a non-blocking receive.
TEST(Select, NonblockingReceiveRacingCloseIsAlwaysReady) {
  const int n = scaled(2000);
  for (int procs : {2, 4}) {
    SCOPED_TRACE(procs);
    run_joined(procs, [n] {
      Chan<bool> ready(n);
      for (int i = 0; i < n; ++i) {
        Chan<int> c(1);
        c.send(1);
        gocxx::go([c, ready]() mutable {
          ready.send(select(recv_case(c), default_case()) == 0);
        });
        c.close();
        c.recv();
      }
      int not_ready = 0;
      for (int i = 0; i < n; ++i) not_ready += !ready.recv().value();
      EXPECT_EQ(not_ready, 0);
    });
  }
}

// Go's TestNonblockSelectRace and TestNonblockSelectRace2: at every instant one of two
// channels is ready, so a non-blocking select over both must never take the default. This holds
// only if the select looks at both channels atomically.
TEST(Select, NonblockingSelectSeesAConsistentSnapshot) {
  const int n = scaled(2000);
  for (bool use_close : {false, true}) {
    for (int procs : {2, 4}) {
      SCOPED_TRACE(testing::Message() << "procs=" << procs << " close=" << use_close);
      run_joined(procs, [n, use_close] {
        Chan<bool> done(n);
        for (int i = 0; i < n; ++i) {
          Chan<int> c1(1);
          Chan<int> c2(use_close ? 0 : 1);
          c1.send(1);
          gocxx::go([c1, c2, done]() mutable {
            done.send(select(recv_case(c1), recv_case(c2), default_case()) != 2);
          });
          if (use_close) {
            c2.close();
          } else {
            c2.send(1);
          }
          select(recv_case(c1), default_case());
        }
        int defaults = 0;
        for (int i = 0; i < n; ++i) defaults += !done.recv().value();
        EXPECT_EQ(defaults, 0) << "a select found neither channel ready";
      });
    }
  }
}

// ---- callbacks ------------------------------------------------------------------------------------

// The callback runs after the select has committed and released every channel: it may block,
// and may even use the channel it was selected on.
TEST(Select, CallbackRunsAfterChoiceAndMayBlock) {
  for (int procs : {1, 2}) {
    SCOPED_TRACE(procs);
    run_joined(procs, [] {
      Chan<int> in(2), out;
      Chan<int> forwarded(4);
      gocxx::go([out, forwarded]() mutable {
        for (int v : out) forwarded.send(v);
        forwarded.close();
      });
      in.send(1);
      in.send(2);
      int chosen = select(recv_case(in, [&](std::optional<int> v) {
        out.send(*v * 10);  // blocks until the goroutine receives
        auto again = in.recv();  // the selected channel is not held locked
        out.send(*again * 10);
      }));
      EXPECT_EQ(chosen, 0);
      out.close();
      EXPECT_EQ(forwarded.recv(), 10);
      EXPECT_EQ(forwarded.recv(), 20);
      EXPECT_EQ(forwarded.recv(), std::nullopt);

      // A send case's callback sees its value already delivered.
      Chan<int> c(1);
      select(send_case(c, 4, [&] { EXPECT_EQ(c.recv(), 4); }));
      EXPECT_EQ(c.len(), 0u);
    });
  }
}

// ---- move-only and temporaries ------------------------------------------------------------------

TEST(Select, MoveOnlyValues) {
  run_joined(2, [] {
    using P = std::unique_ptr<int>;
    Chan<P> c;
    Chan<int> done(1);
    gocxx::go([c, done]() mutable {
      P got;
      select(recv_case(c, [&](std::optional<P> p) { got = std::move(*p); }));
      done.send(got ? *got : -1);
    });
    EXPECT_EQ(select(send_case(c, std::make_unique<int>(31))), 0);
    EXPECT_EQ(done.recv(), 31);
    // A send case that is not chosen keeps nothing alive; its value is simply dropped.
    Chan<P> full(1);
    full.send(std::make_unique<int>(1));
    EXPECT_EQ(select(send_case(full, std::make_unique<int>(2)), default_case()), 1);
    EXPECT_EQ(**full.recv(), 1);
  });
}

TEST(Select, TemporaryTimerChannel) {
  for (int procs : {1, 2}) {
    SCOPED_TRACE(procs);
    run_joined(procs, [] {
      bool fired = false;
      int chosen = select(recv_case(gocxx::time::after(std::chrono::milliseconds(1)),
                                    [&](std::optional<gocxx::time::TimePoint> t) {
                                      EXPECT_TRUE(t.has_value());
                                      fired = true;
                                    }),
                          recv_case(Chan<int>::nil()));
      EXPECT_EQ(chosen, 0);
      EXPECT_TRUE(fired);
      // A ready channel beats a timer that has not fired.
      Chan<int> ready(1);
      ready.send(1);
      chosen = select(recv_case(gocxx::time::after(std::chrono::minutes(1))), recv_case(ready));
      EXPECT_EQ(chosen, 1);
    });
  }
}

// More cases than the runtime keeps on its stack (it switches to heap storage).
template <std::size_t... I>
int select_over(std::array<Chan<int>, sizeof...(I)>& chans, int& got,
                std::index_sequence<I...>) {
  return select(recv_case(chans[I], [&got](std::optional<int> v) { got = v.value_or(-1); })...);
}

TEST(Select, ManyCases) {
  run_joined(2, [] {
    constexpr std::size_t kN = 20;
    std::array<Chan<int>, kN> chans;
    for (auto& c : chans) c = Chan<int>(1);
    int got = -1;
    for (std::size_t target : {std::size_t{0}, std::size_t{9}, std::size_t{17}, kN - 1}) {
      chans[target].send(static_cast<int>(target) * 3);
      EXPECT_EQ(select_over(chans, got, std::make_index_sequence<kN>{}), int(target));
      EXPECT_EQ(got, int(target) * 3);
    }
    // Blocking: parked on all 20, woken through one.
    Chan<int> result(1);
    go_until_parked(WaitReason::kSelect, [chans, result]() mutable {
      int v = -1;
      int chosen = select_over(chans, v, std::make_index_sequence<kN>{});
      result.send(chosen * 1000 + v);
    });
    chans[13].send(5);
    EXPECT_EQ(result.recv(), 13 * 1000 + 5);
    // The withdrawn waiters left the other channels usable.
    for (auto& c : chans) {
      c.send(1);
      EXPECT_EQ(c.recv(), 1);
    }
  });
}

// ---- plain threads --------------------------------------------------------------------------------

TEST(Select, FromPlainThreadDuringRun) {
  for (int procs : {1, 2}) {
    SCOPED_TRACE(procs);
    run_joined(procs, [] {
      const int n = scaled(1000);
      Chan<int> to_thread, from_thread, quit;
      std::atomic<std::int64_t> thread_sum{0};
      std::thread t([=, &thread_sum]() mutable {
        std::int64_t sum = 0;
        int next = 0;
        bool running = true;
        while (running) {
          select(recv_case(to_thread, [&](std::optional<int> v) { sum += *v; }),
                 send_case(from_thread, next, [&] { ++next; }),
                 recv_case(quit, [&] { running = false; }));
        }
        thread_sum.store(sum);
      });
      std::int64_t got = 0;
      for (int i = 0; i < n; ++i) {
        to_thread.send(i);
        got += from_thread.recv().value();
      }
      quit.close();
      gocxx::blocking([&] { t.join(); });
      EXPECT_EQ(thread_sum.load(), std::int64_t(n) * (n - 1) / 2);
      EXPECT_EQ(got, std::int64_t(n) * (n - 1) / 2);
    });
  }
}

TEST(Select, BetweenPlainThreadsWithoutRun) {
  Chan<int> a, b;
  Chan<int> results(2);
  const int n = scaled(2000);
  std::thread selector([=]() mutable {
    int from_a = 0, from_b = 0;
    for (int i = 0; i < 2 * n; ++i) {
      select(recv_case(a, [&] { ++from_a; }), recv_case(b, [&] { ++from_b; }));
    }
    results.send(from_a);
    results.send(from_b);
  });
  std::thread sender_a([=]() mutable {
    for (int i = 0; i < n; ++i) a.send(i);
  });
  std::thread sender_b([=]() mutable {
    for (int i = 0; i < n; ++i) select(send_case(b, i));
  });
  EXPECT_EQ(results.recv(), n);
  EXPECT_EQ(results.recv(), n);
  selector.join();
  sender_a.join();
  sender_b.join();
}

// ---- stress -----------------------------------------------------------------------------------------

// Go's TestSelectStress: dedicated senders and receivers on four channels race with one
// goroutine that selects over sends to all four and one that selects over receives from all
// four, each dropping a channel (making it nil) once it has done its share on it.
TEST(Select, StressAgainstPlainSendersAndReceivers) {
  const int n = scaled(5000);
  for (int procs : {2, 4}) {
    SCOPED_TRACE(procs);
    run_joined(procs, [n] {
      std::array<Chan<int>, 4> c{Chan<int>(), Chan<int>(), Chan<int>(2), Chan<int>(3)};
      gocxx::sync::WaitGroup wg;
      std::atomic<std::int64_t> received_sum{0};
      wg.add(10);
      for (int k = 0; k < 4; ++k) {
        gocxx::go([&wg, ch = c[k], n]() mutable {
          for (int i = 0; i < n; ++i) ch.send(i);
          wg.done();
        });
        gocxx::go([&wg, &received_sum, ch = c[k], n]() mutable {
          std::int64_t s = 0;
          for (int i = 0; i < n; ++i) s += ch.recv().value();
          received_sum.fetch_add(s);
          wg.done();
        });
      }
      gocxx::go([&wg, c, n]() mutable {
        std::array<int, 4> sent{};
        std::array<Chan<int>, 4> live = c;
        for (int i = 0; i < 4 * n; ++i) {
          int k = select(send_case(live[0], sent[0]), send_case(live[1], sent[1]),
                         send_case(live[2], sent[2]), send_case(live[3], sent[3]));
          if (++sent[k] == n) live[k] = Chan<int>::nil();
        }
        wg.done();
      });
      gocxx::go([&wg, &received_sum, c, n]() mutable {
        std::array<int, 4> got{};
        std::array<Chan<int>, 4> live = c;
        std::int64_t s = 0;
        auto add = [&s](std::optional<int> v) { s += v.value(); };
        for (int i = 0; i < 4 * n; ++i) {
          int k = select(recv_case(live[0], add), recv_case(live[1], add),
                         recv_case(live[2], add), recv_case(live[3], add));
          if (++got[k] == n) live[k] = Chan<int>::nil();
        }
        received_sum.fetch_add(s);
        wg.done();
      });
      wg.wait();
      // Each channel carried the values 0..n-1 twice: once per sender.
      EXPECT_EQ(received_sum.load(), 8 * (std::int64_t(n) * (n - 1) / 2));
      for (auto& ch : c) EXPECT_EQ(ch.len(), 0u);
    });
  }
}

// Many goroutines select over sends to and receives from the same channels, each listing them in
// a different order. Channel locks are taken in a global order, so none of this can deadlock;
// every value sent is received exactly once (or is still buffered at the end).
TEST(Select, OverlappingSelectsInDifferentOrdersDoNotDeadlock) {
  const int target = scaled(100000);
  for (int procs : {2, 4}) {
    SCOPED_TRACE(procs);
    run_joined(procs, [target] {
      constexpr int kWorkers = 8;
      std::array<Chan<std::int64_t>, 4> c{Chan<std::int64_t>(), Chan<std::int64_t>(),
                                         Chan<std::int64_t>(1), Chan<std::int64_t>(3)};
      Chan<int> quit;
      std::atomic<int> receives{0};
      std::atomic<std::int64_t> sent_sum{0}, received_sum{0};
      std::atomic<std::int64_t> sent_count{0}, received_count{0};
      gocxx::sync::WaitGroup wg;
      wg.add(kWorkers);
      for (int w = 0; w < kWorkers; ++w) {
        gocxx::go([&, w]() mutable {
          // Each worker lists the channels in its own rotation, sends before or after receives.
          std::array<Chan<std::int64_t>, 4> ch;
          for (int k = 0; k < 4; ++k) ch[k] = c[(k + w) % 4];
          std::int64_t next = std::int64_t(w) << 32;
          std::int64_t my_sent = 0, my_recv = 0, n_sent = 0, n_recv = 0;
          bool running = true;
          auto on_recv = [&](std::optional<std::int64_t> v) {
            my_recv += v.value();
            ++n_recv;
            if (receives.fetch_add(1) + 1 == target) quit.close();
          };
          auto on_send = [&] {
            my_sent += next++;
            ++n_sent;
          };
          auto stop = [&] { running = false; };
          while (running) {
            if (w % 2 == 0) {
              select(send_case(ch[0], next, on_send), recv_case(ch[1], on_recv),
                     send_case(ch[2], next, on_send), recv_case(ch[3], on_recv),
                     recv_case(quit, stop), recv_case(ch[0], on_recv), send_case(ch[1], next, on_send),
                     recv_case(ch[2], on_recv), send_case(ch[3], next, on_send));
            } else {
              select(recv_case(quit, stop), recv_case(ch[3], on_recv), send_case(ch[2], next, on_send),
                     recv_case(ch[1], on_recv), send_case(ch[0], next, on_send),
                     send_case(ch[3], next, on_send), recv_case(ch[2], on_recv),
                     send_case(ch[1], next, on_send), recv_case(ch[0], on_recv));
            }
          }
          sent_sum.fetch_add(my_sent);
          received_sum.fetch_add(my_recv);
          sent_count.fetch_add(n_sent);
          received_count.fetch_add(n_recv);
          wg.done();
        });
      }
      wg.wait();
      // Whatever is still buffered was sent but not received.
      std::int64_t left_sum = 0, left_count = 0;
      for (auto& ch : c) {
        while (ch.len() > 0) {
          left_sum += ch.recv().value();
          ++left_count;
        }
      }
      EXPECT_GE(received_count.load(), target);
      EXPECT_EQ(sent_count.load(), received_count.load() + left_count);
      EXPECT_EQ(sent_sum.load(), received_sum.load() + left_sum);
    });
  }
}

// ---- panics -------------------------------------------------------------------------------------------

TEST(SelectDeathTest, SendCaseOnClosedChannel) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(run_with(2,
                       [] {
                         Chan<int> c(1);
                         c.close();
                         select(send_case(c, 1), default_case());
                       }),
              testing::ExitedWithCode(2), "panic: send on closed channel");
}

TEST(SelectDeathTest, BlockedSendCasePanicsWhenChannelCloses) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(run_with(2,
                       [] {
                         Chan<int> c, other, done;
                         go_until_parked(WaitReason::kSelect, [c, other, done]() mutable {
                           select(send_case(c, 1), recv_case(other));
                           done.send(0);  // reached only if the select wrongly returned
                         });
                         c.close();
                         done.recv();
                       }),
              testing::ExitedWithCode(2), "panic: send on closed channel");
}

}  // namespace

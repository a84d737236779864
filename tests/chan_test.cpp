// Channel behaviour, after the properties Go's runtime/chan_test.go checks: blocking and
// completion of sends and receives, FIFO order of the buffer and of waiting parties, close,
// nil channels, element lifetimes, plain threads, and a many-producer/many-consumer stress.
#include <atomic>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "runtime/chan_core.hpp"
#include "runtime/goroutine.hpp"
#include "test_util.hpp"

namespace {

using gocxx::Chan;
using gocxx::RecvChan;
using gocxx::SendChan;
using gocxx::test::run_with;
using gocxx::test::parked_for;
using gocxx::test::go_until_parked;
using gocxx::test::join_goroutines;
using gocxx::test::run_joined;
using gocxx::test::scaled;
using gocxx::detail::WaitReason;

// ---- helpers ----------------------------------------------------------------------------------

// An element type that counts its live instances and notices double destruction and use of a
// destroyed object.
struct Tracked {
  static constexpr std::uint32_t kAlive = 0x600dc0de, kDead = 0xdeadbeef;
  static inline std::atomic<int> live{0};
  static inline std::atomic<int> errors{0};

  int value;
  std::uint32_t magic;

  explicit Tracked(int v) noexcept : value(v), magic(kAlive) { live.fetch_add(1); }
  Tracked(Tracked&& other) noexcept : value(other.value), magic(kAlive) {
    if (other.magic != kAlive) errors.fetch_add(1);
    other.value = -1;
    live.fetch_add(1);
  }
  Tracked& operator=(Tracked&&) = delete;
  ~Tracked() {
    if (magic != kAlive) errors.fetch_add(1);
    magic = kDead;
    live.fetch_sub(1);
  }

  static void reset() {
    live.store(0);
    errors.store(0);
  }
};

static_assert(!std::is_trivially_copyable_v<Tracked>);

// ---- blocking and completion ----------------------------------------------------------------

TEST(Chan, UnbufferedSendCompletesOnlyWhenReceived) {
  for (int procs : {1, 2, 4}) {
    SCOPED_TRACE(procs);
    run_joined(procs, [] {
      Chan<int> c;
      Chan<int> done;
      std::atomic<bool> sent{false};
      go_until_parked(WaitReason::kChanSend, [&, c, done]() mutable {
        c.send(7);
        sent.store(true);
        done.send(0);
      });
      // The sender is parked inside send(): its send has not completed.
      EXPECT_FALSE(sent.load());
      EXPECT_EQ(c.len(), 0u);
      EXPECT_EQ(c.recv(), 7);
      done.recv();
      EXPECT_TRUE(sent.load());
    });
  }
}

TEST(Chan, RecvOnEmptyBlocksUntilSend) {
  for (std::size_t cap : {0, 1, 4}) {
    SCOPED_TRACE(cap);
    run_joined(2, [cap] {
      Chan<int> c(cap);
      Chan<int> done;
      std::atomic<bool> received{false};
      go_until_parked(WaitReason::kChanReceive, [&, c, done]() mutable {
        EXPECT_EQ(c.recv(), 11);
        received.store(true);
        done.send(0);
      });
      EXPECT_FALSE(received.load());
      c.send(11);
      done.recv();
      EXPECT_TRUE(received.load());
    });
  }
}

TEST(Chan, SendToFullBufferBlocksUntilRecv) {
  run_joined(2, [] {
    Chan<int> c(2);
    c.send(1);
    c.send(2);
    Chan<int> done;
    std::atomic<bool> sent{false};
    go_until_parked(WaitReason::kChanSend, [&, c, done]() mutable {
      c.send(3);
      sent.store(true);
      done.send(0);
    });
    EXPECT_FALSE(sent.load());
    EXPECT_EQ(c.len(), 2u);
    EXPECT_EQ(c.recv(), 1);
    done.recv();
    EXPECT_TRUE(sent.load());
    EXPECT_EQ(c.recv(), 2);
    EXPECT_EQ(c.recv(), 3);
    EXPECT_EQ(c.len(), 0u);
  });
}

// Without any waiting: a sender can never be more than `cap` values ahead of the receiver.
// Before receiving value i, the sender may have completed at most i + cap sends.
TEST(Chan, SendNeverCompletesEarly) {
  const int n = scaled(5000);
  for (int procs : {1, 2, 4}) {
    for (std::size_t cap : {0, 1, 5}) {
      SCOPED_TRACE(testing::Message() << "procs=" << procs << " cap=" << cap);
      run_joined(procs, [n, cap] {
        Chan<int> c(cap);
        Chan<int> done;
        std::atomic<int> completed{0};
        gocxx::go([&, c, done]() mutable {
          for (int i = 0; i < n; ++i) {
            c.send(i);
            completed.store(i + 1, std::memory_order_release);
          }
          done.send(0);
        });
        int early = 0;
        for (int i = 0; i < n; ++i) {
          if (completed.load(std::memory_order_acquire) > i + static_cast<int>(cap)) ++early;
          auto v = c.recv();
          ASSERT_TRUE(v.has_value());
          ASSERT_EQ(*v, i);
        }
        done.recv();
        EXPECT_EQ(early, 0);
        EXPECT_EQ(completed.load(), n);
      });
    }
  }
}

// ---- FIFO order ---------------------------------------------------------------------------------

TEST(Chan, BufferIsFifoWithLenAndCap) {
  run_joined(1, [] {
    constexpr std::size_t kCap = 5;
    Chan<int> c(kCap);
    EXPECT_EQ(c.cap(), kCap);
    EXPECT_EQ(c.len(), 0u);
    int next_in = 0, next_out = 0;
    // Fill, half drain, refill, drain completely: the ring wraps around several times.
    for (int round = 0; round < 4; ++round) {
      while (c.len() < kCap) {
        std::size_t before = c.len();
        c.send(next_in++);
        EXPECT_EQ(c.len(), before + 1);
      }
      EXPECT_EQ(c.len(), kCap);
      std::size_t keep = round % 2 == 0 ? 2 : 0;
      while (c.len() > keep) {
        std::size_t before = c.len();
        EXPECT_EQ(c.recv(), next_out++);
        EXPECT_EQ(c.len(), before - 1);
      }
      EXPECT_EQ(c.cap(), kCap);
    }
    while (c.len() > 0) EXPECT_EQ(c.recv(), next_out++);
    EXPECT_EQ(next_in, next_out);
  });
}

TEST(Chan, SingleProducerOrderPreserved) {
  const int n = scaled(20000);
  for (int procs : {1, 4}) {
    for (std::size_t cap : {0, 1, 7, 64}) {
      SCOPED_TRACE(testing::Message() << "procs=" << procs << " cap=" << cap);
      run_joined(procs, [n, cap] {
        Chan<int> c(cap);
        gocxx::go([c, n]() mutable {
          for (int i = 0; i < n; ++i) c.send(i);
          c.close();
        });
        int expect = 0;
        for (int v : c) {
          if (v != expect) {
            ADD_FAILURE() << "got " << v << ", want " << expect;
            return;
          }
          ++expect;
        }
        EXPECT_EQ(expect, n);
      });
    }
  }
}

// Senders parked one after another on a channel are served in the order they parked; for a
// full buffered channel, after the values already in the buffer.
TEST(Chan, WaitingSendersAreServedFifo) {
  constexpr int kSenders = 8;
  for (std::size_t cap : {0, 3}) {
    for (int procs : {1, 2, 4}) {
      SCOPED_TRACE(testing::Message() << "procs=" << procs << " cap=" << cap);
      run_joined(procs, [cap] {
        Chan<int> c(cap);
        for (std::size_t i = 0; i < cap; ++i) c.send(1000 + static_cast<int>(i));
        for (int i = 0; i < kSenders; ++i) {
          go_until_parked(WaitReason::kChanSend, [c, i]() mutable { c.send(i); });
        }
        EXPECT_EQ(c.len(), cap);
        for (std::size_t i = 0; i < cap; ++i) EXPECT_EQ(c.recv(), 1000 + static_cast<int>(i));
        for (int i = 0; i < kSenders; ++i) EXPECT_EQ(c.recv(), i);
        EXPECT_EQ(c.len(), 0u);
      });
    }
  }
}

TEST(Chan, WaitingReceiversAreServedFifo) {
  constexpr int kReceivers = 8;
  for (std::size_t cap : {0, 3}) {
    for (int procs : {1, 2, 4}) {
      SCOPED_TRACE(testing::Message() << "procs=" << procs << " cap=" << cap);
      run_joined(procs, [cap] {
        Chan<int> c(cap);
        Chan<std::pair<int, int>> results(kReceivers);  // (receiver, value)
        for (int i = 0; i < kReceivers; ++i) {
          go_until_parked(WaitReason::kChanReceive, [c, results, i]() mutable {
            auto v = c.recv();
            results.send({i, v.value_or(-1)});
          });
        }
        for (int i = 0; i < kReceivers; ++i) c.send(100 + i);
        for (int k = 0; k < kReceivers; ++k) {
          auto r = results.recv();
          ASSERT_TRUE(r.has_value());
          EXPECT_EQ(r->second, 100 + r->first) << "receiver " << r->first;
        }
      });
    }
  }
}

// A send to a channel with a parked receiver hands the value over directly: it never occupies
// the buffer.
TEST(Chan, ValueGoesDirectlyToWaitingReceiver) {
  for (int procs : {1, 2}) {
    SCOPED_TRACE(procs);
    run_joined(procs, [] {
      Chan<int> c(1);
      Chan<int> got(1);
      go_until_parked(WaitReason::kChanReceive, [c, got]() mutable { got.send(c.recv().value_or(-1)); });
      c.send(42);
      EXPECT_EQ(c.len(), 0u);  // not buffered: it went to the receiver
      c.send(43);              // so the buffer still has room and this does not block
      EXPECT_EQ(c.len(), 1u);
      EXPECT_EQ(got.recv(), 42);
      EXPECT_EQ(c.recv(), 43);
    });
  }
}

// ---- close ----------------------------------------------------------------------------------------

TEST(Chan, CloseLetsReceiversDrainThenNullopt) {
  run_joined(2, [] {
    Chan<int> c(3);
    c.send(1);
    c.send(2);
    c.send(3);
    c.close();
    EXPECT_EQ(c.len(), 3u);
    EXPECT_EQ(c.recv(), 1);
    EXPECT_EQ(c.recv(), 2);
    EXPECT_EQ(c.recv(), 3);
    EXPECT_EQ(c.len(), 0u);
    for (int i = 0; i < 5; ++i) EXPECT_EQ(c.recv(), std::nullopt);
    EXPECT_EQ(c.cap(), 3u);
  });
}

TEST(Chan, RecvOnClosedUnbufferedReturnsNulloptRepeatedly) {
  run_joined(1, [] {
    Chan<std::string> c;
    c.close();
    for (int i = 0; i < 10; ++i) EXPECT_EQ(c.recv(), std::nullopt);
  });
}

TEST(Chan, RangeEndsAtClose) {
  for (std::size_t cap : {0, 1, 16}) {
    SCOPED_TRACE(cap);
    run_joined(2, [cap] {
      Chan<int> c(cap);
      gocxx::go([c]() mutable {
        for (int i = 1; i <= 100; ++i) c.send(i);
        c.close();
      });
      int count = 0, sum = 0;
      for (int v : c) {
        ++count;
        sum += v;
      }
      EXPECT_EQ(count, 100);
      EXPECT_EQ(sum, 5050);
      // Ranging again over the closed, drained channel: no iterations.
      for (int v : c) ADD_FAILURE() << "unexpected value " << v;
    });
  }
}

TEST(Chan, CloseWakesAllWaitingReceivers) {
  constexpr int kReceivers = 6;
  for (std::size_t cap : {0, 2}) {
    SCOPED_TRACE(cap);
    run_joined(4, [cap] {
      Chan<int> c(cap);
      Chan<bool> results(kReceivers);
      for (int i = 0; i < kReceivers; ++i) {
        go_until_parked(WaitReason::kChanReceive,
                        [c, results]() mutable { results.send(c.recv().has_value()); });
      }
      c.close();
      for (int i = 0; i < kReceivers; ++i) EXPECT_EQ(results.recv(), false);
    });
  }
}

// Go's TestCloseUnblocksReceive / ordering: values sent before close are all received by
// concurrent consumers, then every consumer sees the close.
TEST(Chan, ConcurrentReceiversSeeEveryValueThenClose) {
  for (int procs : {2, 4}) {
    SCOPED_TRACE(procs);
    run_joined(procs, [] {
      const int n = scaled(4000);
      constexpr int kConsumers = 4;
      Chan<int> c(8);
      Chan<std::int64_t> sums(kConsumers);
      for (int k = 0; k < kConsumers; ++k) {
        gocxx::go([c, sums]() mutable {
          std::int64_t s = 0;
          for (int v : c) s += v;
          sums.send(s);
        });
      }
      for (int i = 1; i <= n; ++i) c.send(i);
      c.close();
      std::int64_t total = 0;
      for (int k = 0; k < kConsumers; ++k) total += sums.recv().value();
      EXPECT_EQ(total, std::int64_t(n) * (n + 1) / 2);
    });
  }
}

// ---- nil channels ---------------------------------------------------------------------------------

TEST(Chan, NilChannelHasNoLenOrCap) {
  run_joined(1, [] {
    auto n = Chan<int>::nil();
    EXPECT_TRUE(n.is_nil());
    EXPECT_EQ(n.len(), 0u);
    EXPECT_EQ(n.cap(), 0u);
    EXPECT_TRUE(n == Chan<int>::nil());
    Chan<int> real(1);
    EXPECT_FALSE(real.is_nil());
    EXPECT_FALSE(n == real);
    // Never ready in a select: the default runs, both for receive and for send.
    EXPECT_EQ(gocxx::select(gocxx::recv_case(n), gocxx::default_case()), 1);
    EXPECT_EQ(gocxx::select(gocxx::send_case(n, 1), gocxx::default_case()), 1);
  });
  // Outside a run too.
  auto n = Chan<int>::nil();
  EXPECT_EQ(n.len(), 0u);
  EXPECT_EQ(n.cap(), 0u);
}

// Sends and receives on a nil channel park forever. The goroutines are abandoned when main
// returns, as Go abandons them.
TEST(Chan, NilChannelOperationsBlockForever) {
  run_with(2, [] {
    std::atomic<int> returned{0};
    go_until_parked(WaitReason::kChanReceiveNilChan, [&returned] {
      Chan<int>::nil().recv();
      returned.fetch_add(1);
    });
    go_until_parked(WaitReason::kChanSendNilChan, [&returned] {
      Chan<int>::nil().send(1);
      returned.fetch_add(1);
    });
    // Give them every chance to (wrongly) continue.
    for (int i = 0; i < 100; ++i) gocxx::yield();
    gocxx::time::sleep(std::chrono::milliseconds(2));
    EXPECT_EQ(returned.load(), 0);
    EXPECT_EQ(gocxx::num_goroutine(), 3);
  });
}

// ---- move-only elements ---------------------------------------------------------------------------

TEST(Chan, MoveOnlyElements) {
  run_joined(2, [] {
    using P = std::unique_ptr<int>;
    // Buffered.
    Chan<P> b(2);
    b.send(std::make_unique<int>(1));
    b.send(std::make_unique<int>(2));
    EXPECT_EQ(*b.recv().value(), 1);
    EXPECT_EQ(*b.recv().value(), 2);
    // Unbuffered, to and from a goroutine.
    Chan<P> u;
    Chan<P> back;
    gocxx::go([u, back]() mutable {
      for (auto& p : u) {
        *p *= 10;
        back.send(std::move(p));
      }
      back.close();
    });
    for (int i = 1; i <= 5; ++i) {
      u.send(std::make_unique<int>(i));
      auto p = back.recv();
      ASSERT_TRUE(p.has_value());
      ASSERT_NE(*p, nullptr);
      EXPECT_EQ(**p, i * 10);
    }
    u.close();
    EXPECT_EQ(back.recv(), std::nullopt);
    // Through select, both directions.
    Chan<P> s(1);
    int chosen = gocxx::select(gocxx::send_case(s, std::make_unique<int>(9)));
    EXPECT_EQ(chosen, 0);
    P out;
    chosen = gocxx::select(gocxx::recv_case(s, [&](std::optional<P> p) { out = std::move(*p); }));
    EXPECT_EQ(chosen, 0);
    ASSERT_NE(out, nullptr);
    EXPECT_EQ(*out, 9);
  });
}

// Over-aligned elements keep their alignment in the buffer and in transit.
struct alignas(64) Aligned {
  static inline std::atomic<int> misaligned{0};
  int value;
  explicit Aligned(int v) noexcept : value(v) { check(); }
  Aligned(Aligned&& other) noexcept : value(other.value) { check(); }
  ~Aligned() { check(); }
  void check() const {
    if (reinterpret_cast<std::uintptr_t>(this) % alignof(Aligned) != 0) misaligned.fetch_add(1);
  }
};

TEST(Chan, OverAlignedAndEmptyElements) {
  run_joined(2, [] {
    Chan<Aligned> b(3);
    Chan<Aligned> u;
    gocxx::go([u]() mutable {
      for (int i = 0; i < 10; ++i) u.send(Aligned(i));
    });
    for (int i = 0; i < 10; ++i) {
      b.send(u.recv().value());
      if (b.len() == b.cap()) EXPECT_EQ(b.recv()->value, i - 2);
    }
    EXPECT_EQ(b.len(), 2u);
    EXPECT_EQ(b.recv()->value, 8);
    EXPECT_EQ(b.recv()->value, 9);
    EXPECT_EQ(Aligned::misaligned.load(), 0);

    struct Empty {};
    Chan<Empty> e(100);
    for (int i = 0; i < 100; ++i) e.send(Empty{});
    EXPECT_EQ(e.len(), 100u);
    int received = 0;
    e.close();
    for (Empty x : e) {
      (void)x;
      ++received;
    }
    EXPECT_EQ(received, 100);
  });
}

// ---- handles ---------------------------------------------------------------------------------------

TEST(Chan, CopiesShareOneChannel) {
  run_joined(1, [] {
    Chan<int> a(2);
    Chan<int> b = a;
    EXPECT_TRUE(a == b);
    b.send(5);
    EXPECT_EQ(a.len(), 1u);
    EXPECT_EQ(a.recv(), 5);
    Chan<int> c(2);
    EXPECT_FALSE(a == c);
    c = a;  // assignment re-points c
    EXPECT_TRUE(c == a);
    c.send(6);
    EXPECT_EQ(b.recv(), 6);
    a.close();
    EXPECT_EQ(c.recv(), std::nullopt);  // closing one handle closes the channel

    Chan<int> moved = std::move(b);
    EXPECT_TRUE(moved == a);
    EXPECT_TRUE(b.is_nil());  // a moved-from handle is nil
    EXPECT_TRUE(b == Chan<int>::nil());

    Chan<int> self(1);
    Chan<int>& alias = self;
    self = alias;  // self-assignment keeps the channel alive
    self.send(1);
    EXPECT_EQ(self.recv(), 1);
  });
}

TEST(Chan, HandleOutlivesCreator) {
  run_joined(2, [] {
    Chan<int> result(1);
    {
      Chan<int> local(4);
      local.send(3);
      gocxx::go([local, result]() mutable { result.send(local.recv().value_or(-1)); });
    }  // only the goroutine's copy remains
    EXPECT_EQ(result.recv(), 3);
  });
}

// ---- directional handles: RecvChan (Go's <-chan T) and SendChan (chan<- T) ---------------------

// What a handle type lets one write; the negative checks are the point (misuse must not compile).
template <class C>
concept CanSend = requires(C c, int v) { c.send(v); };
template <class C>
concept CanRecv = requires(C c) { c.recv(); };
template <class C>
concept CanClose = requires(C c) { c.close(); };
template <class C>
concept CanRange = requires(C c) {
  c.begin();
  c.end();
  typename C::iterator;
};
template <class C>
concept CanRecvCase = requires(C c, const C& cc) {
  gocxx::recv_case(c);                              // lvalue
  gocxx::recv_case(cc, [](std::optional<int>) {});  // const lvalue
  gocxx::recv_case(std::move(c), [] {});            // temporary
};
template <class C>
concept CanSendCase = requires(C c, const C& cc) {
  gocxx::send_case(c, 1);
  gocxx::send_case(cc, 1, [] {});
  gocxx::send_case(std::move(c), 1);
};
template <class A, class B>
concept Comparable = requires(const A& a, const B& b) {
  { a == b } -> std::same_as<bool>;
  { b != a } -> std::same_as<bool>;
};

static_assert(CanSend<Chan<int>> && CanRecv<Chan<int>> && CanClose<Chan<int>> &&
              CanRange<Chan<int>> && CanRecvCase<Chan<int>> && CanSendCase<Chan<int>>);
static_assert(CanRecv<RecvChan<int>> && CanRange<RecvChan<int>> && CanRecvCase<RecvChan<int>>);
static_assert(!CanSend<RecvChan<int>> && !CanClose<RecvChan<int>> && !CanSendCase<RecvChan<int>>,
              "a RecvChan must not send or close");
static_assert(CanSend<SendChan<int>> && CanClose<SendChan<int>> && CanSendCase<SendChan<int>>);
static_assert(!CanRecv<SendChan<int>> && !CanRange<SendChan<int>> && !CanRecvCase<SendChan<int>>,
              "a SendChan must not receive");
// Chan -> view implicitly (lvalue and temporary); never back, never across, never another T.
static_assert(std::is_nothrow_convertible_v<const Chan<int>&, RecvChan<int>> &&
              std::is_nothrow_convertible_v<Chan<int>, RecvChan<int>>);
static_assert(std::is_nothrow_convertible_v<const Chan<int>&, SendChan<int>> &&
              std::is_nothrow_convertible_v<Chan<int>, SendChan<int>>);
static_assert(!std::is_constructible_v<Chan<int>, RecvChan<int>> &&
              !std::is_constructible_v<Chan<int>, SendChan<int>> &&
              !std::is_assignable_v<Chan<int>&, RecvChan<int>> &&
              !std::is_assignable_v<Chan<int>&, SendChan<int>>);
static_assert(!std::is_constructible_v<RecvChan<int>, SendChan<int>> &&
              !std::is_constructible_v<SendChan<int>, RecvChan<int>>);
static_assert(!std::is_constructible_v<RecvChan<int>, Chan<long>> &&
              !std::is_constructible_v<SendChan<long>, Chan<int>>);
static_assert(!std::is_default_constructible_v<RecvChan<int>> &&
              !std::is_default_constructible_v<SendChan<int>>,
              "a view of no channel is spelled nil()");
// Identity comparison as in Go: chan T with either view, but <-chan T never with chan<- T.
static_assert(Comparable<RecvChan<int>, RecvChan<int>> && Comparable<SendChan<int>, SendChan<int>>);
static_assert(Comparable<Chan<int>, RecvChan<int>> && Comparable<Chan<int>, SendChan<int>>);
static_assert(!Comparable<RecvChan<int>, SendChan<int>>);
// One pointer each, cheap to move (so they can travel through channels), one iterator type.
static_assert(sizeof(RecvChan<int>) == sizeof(void*) && sizeof(SendChan<int>) == sizeof(void*));
static_assert(std::is_nothrow_move_constructible_v<RecvChan<int>> &&
              std::is_nothrow_move_assignable_v<SendChan<int>>);
static_assert(std::is_same_v<Chan<int>::iterator, RecvChan<int>::iterator>);
static_assert(std::is_same_v<RecvChan<std::string>::value_type, std::string>);

// Go's pipeline stages: a producer gets only the send side, a consumer only the receive side.
void produce(SendChan<int> out, int n) {
  for (int i = 1; i <= n; ++i) out.send(i);
  out.close();  // Go allows close on a send-only channel
}
int consume(RecvChan<int> in) {
  int sum = 0;
  for (int v : in) sum += v;
  return sum;
}

TEST(DirectionalChan, ViewsShareTheChannel) {
  run_joined(1, [] {
    Chan<int> ch(3);
    RecvChan<int> in = ch;
    SendChan<int> out = ch;
    out.send(7);
    EXPECT_EQ(ch.len(), 1u);
    EXPECT_EQ(in.len(), 1u);
    EXPECT_EQ(out.len(), 1u);
    EXPECT_EQ(in.cap(), 3u);
    EXPECT_EQ(out.cap(), 3u);
    EXPECT_EQ(in.recv(), 7);
    ch.send(8);
    EXPECT_EQ(in.recv(), 8);

    EXPECT_TRUE(in == ch);
    EXPECT_TRUE(ch == in);
    EXPECT_TRUE(out == ch);
    EXPECT_FALSE(in == Chan<int>(1));
    RecvChan<int> copy = in;  // copies share, as Chan's do
    EXPECT_TRUE(copy == in);
    out.send(9);
    EXPECT_EQ(copy.recv(), 9);

    // Conversion from a temporary takes its reference; the moved-from Chan is nil.
    Chan<int> other(1);
    RecvChan<int> taken = std::move(other);
    EXPECT_TRUE(other.is_nil());
    EXPECT_FALSE(taken.is_nil());
    EXPECT_EQ(taken.cap(), 1u);

    // Assignment re-points a view, also straight from a Chan.
    copy = taken;
    EXPECT_TRUE(copy == taken);
    copy = ch;
    EXPECT_TRUE(copy == ch);
    out = Chan<int>(2);
    EXPECT_FALSE(out == ch);
    EXPECT_EQ(out.cap(), 2u);

    EXPECT_TRUE(RecvChan<int>::nil().is_nil());
    EXPECT_TRUE(SendChan<int>::nil().is_nil());
    EXPECT_TRUE(RecvChan<int>::nil() == Chan<int>::nil());
    EXPECT_EQ(RecvChan<int>::nil().len(), 0u);
    EXPECT_EQ(SendChan<int>::nil().cap(), 0u);
  });
}

TEST(DirectionalChan, PipelineThroughViewsAndRangeFor) {
  for (int procs : {1, 4}) {
    run_joined(procs, [] {
      Chan<int> ch;  // unbuffered: every value is a hand-off between the stages
      gocxx::go(produce, ch, 100);
      EXPECT_EQ(consume(ch), 5050);
      EXPECT_EQ(RecvChan<int>(ch).recv(), std::nullopt);  // closed through the SendChan
    });
  }
}

TEST(DirectionalChan, RangeForOverRecvChanDrainsThenEnds) {
  run_joined(2, [] {
    Chan<std::string> ch(4);
    SendChan<std::string> out = ch;
    out.send("a");
    out.send("b");
    gocxx::go([out]() mutable {
      out.send("c");
      out.close();
    });
    std::string seen;
    for (std::string& s : RecvChan<std::string>(ch)) seen += s;
    EXPECT_EQ(seen, "abc");
  });
}

TEST(DirectionalChan, CloseThroughSendChanWakesReceivers) {
  run_joined(2, [] {
    Chan<int> ch;
    RecvChan<int> in = ch;
    Chan<bool> woke(2);
    for (int i = 0; i < 2; ++i) {
      go_until_parked(WaitReason::kChanReceive,
                      [in, woke]() mutable { woke.send(!in.recv().has_value()); });
    }
    SendChan<int>(ch).close();
    EXPECT_EQ(woke.recv(), true);
    EXPECT_EQ(woke.recv(), true);
    EXPECT_EQ(in.recv(), std::nullopt);
  });
}

TEST(DirectionalChan, SelectWithBothViews) {
  run_joined(2, [] {
    Chan<int> a(1), b(1);
    RecvChan<int> in = a;
    SendChan<int> out = b;
    a.send(1);
    // in is ready, out has room: both are ready, so both get chosen eventually.
    bool chose_recv = false, chose_send = false;
    while (!chose_recv || !chose_send) {
      int chosen = gocxx::select(
          gocxx::recv_case(in, [&](std::optional<int> v) {
            EXPECT_EQ(v, 1);
            a.send(1);
          }),
          gocxx::send_case(out, 2, [&] { EXPECT_EQ(b.recv(), 2); }));
      (chosen == 0 ? chose_recv : chose_send) = true;
    }

    // Temporaries move into the cases; a nil view is never ready.
    int got = 0;
    EXPECT_EQ(gocxx::select(gocxx::recv_case(RecvChan<int>::nil(), [] { ADD_FAILURE(); }),
                            gocxx::recv_case(RecvChan<int>(a), [&](auto v) { got = *v; })),
              1);
    EXPECT_EQ(got, 1);
    EXPECT_EQ(gocxx::select(gocxx::send_case(SendChan<int>::nil(), 0, [] { ADD_FAILURE(); }),
                            gocxx::send_case(SendChan<int>(b), 3)),
              1);
    EXPECT_EQ(b.recv(), 3);
    EXPECT_EQ(gocxx::select(gocxx::recv_case(in), gocxx::send_case(SendChan<int>::nil(), 0),
                            gocxx::default_case()),
              2);

    // A blocked select is woken through the views: a send through one, a close through the other.
    Chan<int> result(2);
    auto wait_on_both = [in, out, result]() mutable {
      gocxx::select(gocxx::recv_case(in, [&](std::optional<int> v) { result.send(v ? *v : -1); }),
                    gocxx::send_case(out, 5, [&] { result.send(5); }));
    };
    b.send(0);  // out is full
    go_until_parked(WaitReason::kSelect, wait_on_both);
    EXPECT_EQ(b.recv(), 0);  // makes room: the blocked send case proceeds
    EXPECT_EQ(result.recv(), 5);
    EXPECT_EQ(b.recv(), 5);
    b.send(0);
    go_until_parked(WaitReason::kSelect, wait_on_both);
    SendChan<int>(a).close();  // wakes the blocked receive case
    EXPECT_EQ(result.recv(), -1);
  });
}

// Cases built from lvalue views hold no reference (no atomic traffic on the select fast path);
// a temporary view's reference moves into the case, without an extra count.
TEST(DirectionalChan, CasesTakeViewsWithoutReferenceTraffic) {
  Chan<int> ch(1);
  auto refs = [&] { return ch.core()->refs.load(); };
  RecvChan<int> in = ch;
  SendChan<int> out = ch;
  ASSERT_EQ(refs(), 3u);
  {
    auto r = gocxx::recv_case(in);
    auto s = gocxx::send_case(out, 1);
    EXPECT_EQ(refs(), 3u);
    auto owned = gocxx::recv_case(RecvChan<int>(ch));
    EXPECT_EQ(refs(), 4u);  // the conversion's reference, now the case's
    EXPECT_EQ(owned.chan.core, ch.core());
  }
  EXPECT_EQ(refs(), 3u);
}

// Views are values like any other: a channel of receive-only channels (Go's reply channels).
TEST(DirectionalChan, ViewsTravelThroughChannels) {
  run_joined(2, [] {
    Chan<RecvChan<int>> replies(1);
    gocxx::go([replies]() mutable {
      Chan<int> reply(1);
      reply.send(42);
      replies.send(reply);
    });
    auto reply = replies.recv();
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(reply->recv(), 42);
  });
}

// ---- plain threads ----------------------------------------------------------------------------------

TEST(Chan, PlainThreadSendsToGoroutine) {
  for (int procs : {1, 2}) {
    for (std::size_t cap : {0, 4}) {
      SCOPED_TRACE(testing::Message() << "procs=" << procs << " cap=" << cap);
      run_joined(procs, [cap] {
        const int n = scaled(2000);
        Chan<int> c(cap);
        std::thread producer([c, n]() mutable {
          for (int i = 0; i < n; ++i) c.send(i);
          c.close();
        });
        int expect = 0;
        for (int v : c) {
          if (v != expect) {
            ADD_FAILURE() << "got " << v << ", want " << expect;
            break;
          }
          ++expect;
        }
        gocxx::blocking([&] { producer.join(); });
        EXPECT_EQ(expect, n);
      });
    }
  }
}

TEST(Chan, GoroutineSendsToPlainThread) {
  for (int procs : {1, 2}) {
    for (std::size_t cap : {0, 4}) {
      SCOPED_TRACE(testing::Message() << "procs=" << procs << " cap=" << cap);
      run_joined(procs, [cap] {
        const int n = scaled(2000);
        Chan<int> c(cap);
        std::atomic<int> received{0};
        std::atomic<bool> in_order{true};
        std::thread consumer([c, &received, &in_order]() mutable {
          int expect = 0;
          for (int v : c) {
            if (v != expect++) in_order.store(false);
            received.fetch_add(1);
          }
        });
        gocxx::go([c, n]() mutable {
          for (int i = 0; i < n; ++i) c.send(i);
          c.close();
        });
        gocxx::blocking([&] { consumer.join(); });
        EXPECT_EQ(received.load(), n);
        EXPECT_TRUE(in_order.load());
      });
    }
  }
}

// Strict alternation between a thread and a goroutine: each wakes the other every time.
TEST(Chan, PingPongBetweenThreadAndGoroutine) {
  for (int procs : {1, 2}) {
    SCOPED_TRACE(procs);
    run_joined(procs, [] {
      const int n = scaled(2000);
      Chan<int> ping, pong;
      std::thread t([ping, pong]() mutable {
        for (int v : ping) pong.send(v + 1);
        pong.close();
      });
      int v = 0;
      for (int i = 0; i < n; ++i) {
        ping.send(v);
        auto r = pong.recv();
        ASSERT_TRUE(r.has_value());
        v = *r;
      }
      ping.close();
      EXPECT_EQ(pong.recv(), std::nullopt);
      gocxx::blocking([&] { t.join(); });
      EXPECT_EQ(v, n);
    });
  }
}

// Plain threads blocked in recv() are woken by close. (The sleep only makes it likely that they
// are already parked; the result must be the same either way.)
TEST(Chan, CloseWakesPlainThreadReceivers) {
  for (std::size_t cap : {0, 2}) {
    SCOPED_TRACE(cap);
    Chan<int> c(cap);
    std::atomic<int> got_nullopt{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 3; ++i) {
      threads.emplace_back([c, &got_nullopt]() mutable {
        if (!c.recv().has_value()) got_nullopt.fetch_add(1);
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    c.close();
    for (auto& t : threads) t.join();
    EXPECT_EQ(got_nullopt.load(), 3);
  }
}

// No gocxx::run at all: channels work between plain threads.
TEST(Chan, PlainThreadsWithoutRun) {
  for (std::size_t cap : {0, 1, 10}) {
    SCOPED_TRACE(cap);
    const int per_producer = scaled(3000);
    constexpr int kProducers = 3, kConsumers = 3;
    Chan<int> c(cap);
    Chan<int> done(kProducers);
    std::atomic<std::int64_t> sum{0};
    std::atomic<int> count{0};
    std::vector<std::thread> threads;
    for (int p = 0; p < kProducers; ++p) {
      threads.emplace_back([c, done, p, per_producer]() mutable {
        for (int i = 0; i < per_producer; ++i) c.send(p * per_producer + i + 1);
        done.send(p);
      });
    }
    for (int k = 0; k < kConsumers; ++k) {
      threads.emplace_back([c, &sum, &count]() mutable {
        for (int v : c) {
          sum.fetch_add(v);
          count.fetch_add(1);
        }
      });
    }
    for (int p = 0; p < kProducers; ++p) done.recv();  // the main thread blocks on a channel
    c.close();
    for (auto& t : threads) t.join();
    const std::int64_t total = std::int64_t(kProducers) * per_producer;
    EXPECT_EQ(count.load(), total);
    EXPECT_EQ(sum.load(), total * (total + 1) / 2);
  }
}

// ---- stress -------------------------------------------------------------------------------------------

// Go's TestChan / TestMultiConsumer idea: many producers and consumers, every value delivered
// exactly once.
TEST(Chan, ManyProducersManyConsumersDeliverEachValueOnce) {
  constexpr int kProducers = 8, kConsumers = 8;
  const int per_producer = scaled(5000);
  const int total = kProducers * per_producer;
  for (int procs : {1, 2, 4}) {
    for (std::size_t cap : {0, 1, 10, 100}) {
      SCOPED_TRACE(testing::Message() << "procs=" << procs << " cap=" << cap);
      run_joined(procs, [&] {
        Chan<int> c(cap);
        gocxx::sync::WaitGroup producers;
        std::vector<std::atomic<int>> seen(total);
        Chan<std::pair<int, std::int64_t>> results(kConsumers);  // (count, sum) per consumer
        producers.add(kProducers);
        for (int p = 0; p < kProducers; ++p) {
          gocxx::go([c, &producers, p, per_producer]() mutable {
            for (int i = 0; i < per_producer; ++i) c.send(p * per_producer + i);
            producers.done();
          });
        }
        for (int k = 0; k < kConsumers; ++k) {
          gocxx::go([c, results, &seen]() mutable {
            int count = 0;
            std::int64_t sum = 0;
            for (int v : c) {
              seen[v].fetch_add(1, std::memory_order_relaxed);
              ++count;
              sum += v;
            }
            results.send({count, sum});
          });
        }
        producers.wait();
        c.close();
        int count = 0;
        std::int64_t sum = 0;
        for (int k = 0; k < kConsumers; ++k) {
          auto r = results.recv().value();
          count += r.first;
          sum += r.second;
        }
        EXPECT_EQ(count, total);
        EXPECT_EQ(sum, std::int64_t(total) * (total - 1) / 2);
        int wrong = 0;
        for (int v = 0; v < total; ++v) wrong += seen[v].load() != 1;
        EXPECT_EQ(wrong, 0) << "values not delivered exactly once";
      });
    }
  }
}

// ---- element lifetimes ------------------------------------------------------------------------------

TEST(Chan, ElementsLeftInBufferAreDestroyedWithTheChannel) {
  Tracked::reset();
  run_joined(1, [] {
    {
      Chan<Tracked> c(8);
      for (int i = 0; i < 5; ++i) c.send(Tracked(i));
      for (int i = 0; i < 3; ++i) EXPECT_EQ(c.recv()->value, i);
      for (int i = 5; i < 10; ++i) c.send(Tracked(i));  // wraps around the ring
      EXPECT_EQ(c.len(), 7u);
      EXPECT_EQ(Tracked::live.load(), 7);
      Chan<Tracked> copy = c;
      c = Chan<Tracked>::nil();
      EXPECT_EQ(Tracked::live.load(), 7);  // a handle still refers to it
      EXPECT_EQ(copy.recv()->value, 3);
      EXPECT_EQ(Tracked::live.load(), 6);
    }  // last handle gone: the 6 buffered values die
    EXPECT_EQ(Tracked::live.load(), 0);
    {
      Chan<Tracked> closed(4);
      closed.send(Tracked(1));
      closed.send(Tracked(2));
      closed.close();
      EXPECT_EQ(closed.recv()->value, 1);
    }
    EXPECT_EQ(Tracked::live.load(), 0);
  });
  EXPECT_EQ(Tracked::live.load(), 0);
  EXPECT_EQ(Tracked::errors.load(), 0);
}

TEST(Chan, ElementsThroughEveryPathAreDestroyedOnce) {
  Tracked::reset();
  for (int procs : {1, 4}) {
    run_joined(procs, [] {
      const int n = scaled(2000);
      for (std::size_t cap : {0, 1, 3}) {
        Chan<Tracked> c(cap);
        Chan<std::int64_t> sum(1);
        // Several senders so that some park and get served by recv_from_waiter.
        for (int s = 0; s < 3; ++s) {
          gocxx::go([c, n]() mutable {
            for (int i = 1; i <= n; ++i) c.send(Tracked(i));
          });
        }
        gocxx::go([c, sum, n]() mutable {
          std::int64_t s = 0;
          for (int i = 0; i < 3 * n; ++i) s += c.recv()->value;
          sum.send(s);
        });
        EXPECT_EQ(sum.recv(), 3 * std::int64_t(n) * (n + 1) / 2);
      }
      // Select: a send case that is not chosen still destroys its value, a receive moves it.
      Chan<Tracked> full(1);
      full.send(Tracked(1));
      int chosen = gocxx::select(gocxx::send_case(full, Tracked(2)), gocxx::default_case());
      EXPECT_EQ(chosen, 1);
      chosen = gocxx::select(gocxx::recv_case(full, [](std::optional<Tracked> t) {
        EXPECT_EQ(t->value, 1);
      }));
      EXPECT_EQ(chosen, 0);
      chosen = gocxx::select(gocxx::send_case(full, Tracked(3)));
      EXPECT_EQ(chosen, 0);
      chosen = gocxx::select(gocxx::recv_case(full));  // callback without the value: discarded
      EXPECT_EQ(chosen, 0);
      EXPECT_EQ(full.len(), 0u);
    });
    EXPECT_EQ(Tracked::live.load(), 0);
  }
  EXPECT_EQ(Tracked::errors.load(), 0);
}

// ---- panics -------------------------------------------------------------------------------------------

TEST(ChanDeathTest, SendOnClosedChannel) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(run_joined(2,
                       [] {
                         Chan<int> c(1);
                         c.close();
                         c.send(1);
                       }),
              testing::ExitedWithCode(2), "panic: send on closed channel");
  EXPECT_EXIT(run_joined(1,
                       [] {
                         Chan<int> c;
                         c.close();
                         c.send(1);
                       }),
              testing::ExitedWithCode(2), "panic: send on closed channel");
}

TEST(ChanDeathTest, BlockedSenderPanicsWhenChannelCloses) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  for (std::size_t cap : {0, 1}) {
    EXPECT_EXIT(run_joined(2,
                         [cap] {
                           Chan<int> c(cap);
                           for (std::size_t i = 0; i < cap; ++i) c.send(0);
                           Chan<int> done;
                           go_until_parked(WaitReason::kChanSend, [c, done]() mutable {
                             c.send(1);
                             done.send(0);  // reached only if the send wrongly returned
                           });
                           c.close();
                           done.recv();
                         }),
                testing::ExitedWithCode(2), "panic: send on closed channel");
  }
}

TEST(ChanDeathTest, SendOnClosedChannelFromPlainThread) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(gocxx::test::on_plain_thread([] {
                Chan<int> c(1);
                c.close();
                c.send(1);
              }),
              testing::ExitedWithCode(2), "panic: send on closed channel");
}

TEST(ChanDeathTest, CloseOfClosedChannel) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(run_joined(2,
                       [] {
                         Chan<int> c(1);
                         c.close();
                         c.close();
                       }),
              testing::ExitedWithCode(2), "panic: close of closed channel");
}

TEST(ChanDeathTest, SendChanKeepsGoPanics) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(run_joined(1,
                       [] {
                         Chan<int> c(1);
                         SendChan<int> out = c;
                         out.close();
                         out.close();
                       }),
              testing::ExitedWithCode(2), "panic: close of closed channel");
  EXPECT_EXIT(run_joined(1, [] { SendChan<int>::nil().close(); }), testing::ExitedWithCode(2),
              "panic: close of nil channel");
}

TEST(ChanDeathTest, HugeCapacity) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(run_with(1, [] { Chan<std::int64_t> c(std::size_t(1) << 60); }),
              testing::ExitedWithCode(2), "panic: makechan: size out of range");
}

TEST(ChanDeathTest, CloseOfNilChannel) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(run_joined(2, [] { Chan<int>::nil().close(); }), testing::ExitedWithCode(2),
              "panic: close of nil channel");
  EXPECT_EXIT(gocxx::test::on_plain_thread([] { Chan<int>::nil().close(); }),
              testing::ExitedWithCode(2),
              "panic: close of nil channel");
}

}  // namespace

TEST(Chan, LiteralCapacitiesConstruct) {
  // Chan(0) must pick the capacity constructor (not the private nil one).
  gocxx::Chan<int> unbuffered(0), buffered(3);
  EXPECT_EQ(unbuffered.cap(), 0u);
  EXPECT_EQ(buffered.cap(), 3u);
  EXPECT_FALSE(unbuffered.is_nil());
}

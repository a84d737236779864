// Google Benchmark micro-benchmarks of gocxx's primitives. Each benchmark body runs inside one
// gocxx::run: the timed loop executes on the main goroutine, so every operation takes the same
// paths a real goroutine would. bench/go/micro_test.go has the Go counterparts.
//
// The main goroutine may migrate between threads, so the benchmarks use wall-clock time and
// report the CPU time of the whole process (all Ms, spinning included) in the CPU column.
#include <gocxx/gocxx.hpp>

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>

namespace {

#define GOCXX_BENCH(fn) BENCHMARK(fn)->UseRealTime()->MeasureProcessCPUTime()

// Round trip over two unbuffered channels with a partner goroutine.
void BM_PingPong(benchmark::State& state) {
  gocxx::run([&] {
    gocxx::Chan<int> ping, pong;
    gocxx::go([ping, pong]() mutable {
      for (int v : ping) pong.send(v);
    });
    int i = 0;
    for (auto _ : state) {
      ping.send(i++);
      benchmark::DoNotOptimize(pong.recv());
    }
    ping.close();
  });
}
GOCXX_BENCH(BM_PingPong);

// Spawning a goroutine that calls wg.done(); main waits every 1024 spawns, so the cost of
// running and retiring the goroutines is inside the timed loop.
void BM_Spawn(benchmark::State& state) {
  gocxx::run([&] {
    gocxx::sync::WaitGroup wg;
    std::int64_t i = 0;
    for (auto _ : state) {
      wg.add(1);
      gocxx::go([&wg] { wg.done(); });
      if (++i % 1024 == 0) wg.wait();
    }
    wg.wait();
  });
}
GOCXX_BENCH(BM_Spawn);

// Send then receive on a buffered channel from one goroutine: the uncontended buffer path.
void BM_ChanSendRecvBuffered(benchmark::State& state) {
  gocxx::run([&] {
    gocxx::Chan<int> ch(static_cast<std::size_t>(state.range(0)));
    int i = 0;
    for (auto _ : state) {
      ch.send(i++);
      benchmark::DoNotOptimize(ch.recv());
    }
  });
}
GOCXX_BENCH(BM_ChanSendRecvBuffered)->Arg(1)->Arg(100);

// Fill a cap-100 channel with 100 sends, then drain it with 100 receives (per-item cost).
void BM_ChanFillDrain100(benchmark::State& state) {
  gocxx::run([&] {
    gocxx::Chan<int> ch(100);
    for (auto _ : state) {
      for (int i = 0; i < 100; ++i) ch.send(i);
      for (int i = 0; i < 100; ++i) benchmark::DoNotOptimize(ch.recv());
    }
  });
  state.SetItemsProcessed(state.iterations() * 100);
}
GOCXX_BENCH(BM_ChanFillDrain100);

// Non-blocking select over an empty channel: the default case is taken every time.
void BM_SelectDefaultEmpty(benchmark::State& state) {
  gocxx::run([&] {
    gocxx::Chan<int> ch(1);
    int defaults = 0;
    for (auto _ : state) {
      gocxx::select(gocxx::recv_case(ch, [](std::optional<int>) {}),
                    gocxx::default_case([&] { ++defaults; }));
    }
    benchmark::DoNotOptimize(defaults);
  });
}
GOCXX_BENCH(BM_SelectDefaultEmpty);

// Non-blocking select with two receive cases where one is always ready (buffered channel with
// a value put back each iteration).
void BM_SelectDefaultReady(benchmark::State& state) {
  gocxx::run([&] {
    gocxx::Chan<int> a(1), b(1);
    for (auto _ : state) {
      a.send(1);
      gocxx::select(gocxx::recv_case(a, [](std::optional<int> v) { benchmark::DoNotOptimize(v); }),
                    gocxx::recv_case(b, [](std::optional<int> v) { benchmark::DoNotOptimize(v); }),
                    gocxx::default_case());
    }
  });
}
GOCXX_BENCH(BM_SelectDefaultReady);

// Uncontended Mutex lock/unlock.
void BM_MutexUncontended(benchmark::State& state) {
  gocxx::run([&] {
    gocxx::sync::Mutex mu;
    std::int64_t counter = 0;
    for (auto _ : state) {
      mu.lock();
      ++counter;
      mu.unlock();
    }
    benchmark::DoNotOptimize(counter);
  });
}
GOCXX_BENCH(BM_MutexUncontended);

// Uncontended WaitGroup add(1)/done() pair.
void BM_WaitGroupAddDone(benchmark::State& state) {
  gocxx::run([&] {
    gocxx::sync::WaitGroup wg;
    for (auto _ : state) {
      wg.add(1);
      wg.done();
    }
  });
}
GOCXX_BENCH(BM_WaitGroupAddDone);

// time::after with a far deadline: creating a channel timer (it stays pending, as in Go).
void BM_TimeAfterCreate(benchmark::State& state) {
  gocxx::run([&] {
    for (auto _ : state) {
      benchmark::DoNotOptimize(gocxx::time::after(std::chrono::hours(1)));
    }
  });
}
GOCXX_BENCH(BM_TimeAfterCreate);

// Timer created and stopped: the full add/remove cycle on the timer heap.
void BM_TimerCreateStop(benchmark::State& state) {
  gocxx::run([&] {
    for (auto _ : state) {
      gocxx::time::Timer t(std::chrono::hours(1));
      benchmark::DoNotOptimize(t.stop());
    }
  });
}
GOCXX_BENCH(BM_TimerCreateStop);

// Yield with no other runnable goroutine (scheduler round trip).
void BM_Yield(benchmark::State& state) {
  gocxx::run([&] {
    for (auto _ : state) gocxx::yield();
  });
}
GOCXX_BENCH(BM_Yield);

}  // namespace

BENCHMARK_MAIN();

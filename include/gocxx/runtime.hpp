// gocxx runtime: goroutines on an M:N scheduler (Go's package runtime).
//
//   gocxx::run(main)            runs `main` as goroutine 1 and returns when it returns
//   gocxx::go(f, args...)       spawns a goroutine, returns its id
//   gocxx::yield()              Go's runtime.Gosched
//   gocxx::blocking(f)          runs a blocking call without stalling other goroutines
//   gocxx::panic(v)             Go's panic (defer.hpp: with defer and recover)
#pragma once

#include "gocxx/defer.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <new>
#include <optional>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

namespace gocxx {

// The largest goroutine stack, 1 GiB (Go's limit on 64-bit systems is 1 GB).
inline constexpr std::size_t kMaxStackSize = std::size_t{1} << 30;

// The most Ps a run may have (Options::procs, GOCXX_MAXPROCS): each P costs memory and an M
// may be started for each.
inline constexpr int kMaxProcs = 1 << 16;

// Scheduler chaos, to shake out ordering bugs in tests (as Go's race-detector build randomizes
// scheduling): at every channel operation (send, receive, close, select) and lock operation
// (sync::Mutex and RWMutex lock and unlock, WaitGroup::wait, Cond wait, signal and broadcast) a
// goroutine may yield or sleep, as a seeded draw decides. On one P with yields only, a seed
// replays the same interleaving. Out-of-range values make run() throw std::invalid_argument.
//
//   gocxx::run(main, {.procs = 1, .chaos = gocxx::ChaosOptions{.yield = 0.5, .seed = 42}});
//   GOCXX_CHAOS='yield=50%,seed=42' ./test        # the same, from the environment
struct ChaosOptions {
  double yield = 0;  // probability, 0 to 1, that a point yields (Go's Gosched)
  double delay = 0;  // probability, 0 to 1, that a point sleeps instead; yield + delay <= 1
  // A sleep lasts from 1 ns to max_delay, uniformly. 0: 1 ms. At most 1 s.
  std::chrono::nanoseconds max_delay{0};
  // 0: a random seed, printed to stderr ("gocxx: chaos seed N ...") so a failure can be replayed.
  std::uint64_t seed = 0;
};

// Settings for one gocxx::run. Zero means "the default".
struct Options {
  // Number of Ps (Go's GOMAXPROCS), at most kMaxProcs (else run() throws
  // std::invalid_argument). Default: the GOCXX_MAXPROCS environment variable, else the CPUs
  // this process may run on (its affinity mask), lowered to its cgroup's CPU bandwidth limit
  // (quota / period, rounded up, at least 2) as Go 1.25 does in containers.
  int procs = 0;
  // Virtual size of each goroutine stack, committed lazily page by page. Default 256 KiB
  // (GOCXX_STACK_SIZE overrides). Rounded up to whole pages; at most kMaxStackSize, else run()
  // throws std::invalid_argument.
  std::size_t stack_size = 0;
  // Scheduler chaos. Unset: the GOCXX_CHAOS environment variable, else none. ChaosOptions{}
  // turns it off whatever GOCXX_CHAOS says.
  std::optional<ChaosOptions> chaos;
};

// Per-spawn settings: gocxx::go(gocxx::SpawnOptions{.stack_size = 4 << 20}, f).
struct SpawnOptions {
  // 0: the run's default. At most kMaxStackSize, else go() panics.
  std::size_t stack_size = 0;
};

using GoroutineId = std::uint64_t;

namespace detail {

// How the runtime moves, runs and destroys a type-erased goroutine body that lives on the
// goroutine's own stack (so spawning allocates nothing on the heap).
struct ClosureOps {
  std::size_t size;
  std::size_t align;
  void (*move_into)(void* dst, void* src);
  void (*run)(void* self);
  void (*destroy)(void* self) noexcept;
};

template <class Closure>
inline constexpr ClosureOps closure_ops_for{
    sizeof(Closure), alignof(Closure),
    [](void* dst, void* src) { ::new (dst) Closure(std::move(*static_cast<Closure*>(src))); },
    [](void* self) { (*static_cast<Closure*>(self))(); },
    [](void* self) noexcept { static_cast<Closure*>(self)->~Closure(); }};

// Spawns a goroutine. The caller's return address (a PC inside the function that called
// gocxx::go, since go() is always inlined) becomes the creation site, as Go records gopc.
[[gnu::noinline]] GoroutineId spawn(void* closure, const ClosureOps& ops, std::size_t stack_size);

int run_main(void* closure, const ClosureOps& ops, const Options& options);

}  // namespace detail

// Runs `main` (returning void or int) as the main goroutine and returns when it returns.
// Goroutines still alive then are abandoned, as Go abandons them when main returns.
template <class F>
int run(F&& main, const Options& options = {}) {
  static_assert(std::is_invocable_v<F&>, "gocxx::run: main must be callable with no arguments");
  int exit_code = 0;
  auto body = [&exit_code, fn = std::forward<F>(main)]() mutable {
    if constexpr (std::is_convertible_v<std::invoke_result_t<decltype(fn)&>, int>) {
      exit_code = fn();
    } else {
      fn();
    }
  };
  detail::run_main(&body, detail::closure_ops_for<decltype(body)>, options);
  return exit_code;
}

// Spawns f(args...) as a new goroutine. Arguments are decay-copied (or moved) at the call, like
// std::thread, so a goroutine never reads its caller's stack by accident.
template <class F, class... Args>
[[gnu::always_inline]] inline GoroutineId go(const SpawnOptions& spawn_options, F&& f,
                                             Args&&... args) {
  static_assert(std::is_invocable_v<std::decay_t<F>&, std::decay_t<Args>...>,
                "gocxx::go: f must be callable with the given arguments");
  auto body = [fn = std::forward<F>(f),
               bound = std::make_tuple(std::forward<Args>(args)...)]() mutable {
    std::apply(fn, std::move(bound));
  };
  return detail::spawn(&body, detail::closure_ops_for<decltype(body)>, spawn_options.stack_size);
}

template <class F, class... Args>
  requires(!std::is_same_v<std::decay_t<F>, SpawnOptions>)
[[gnu::always_inline]] inline GoroutineId go(F&& f, Args&&... args) {
  return go(SpawnOptions{}, std::forward<F>(f), std::forward<Args>(args)...);
}

// Lets other goroutines run; the caller stays runnable (Go's runtime.Gosched). On a plain
// thread it yields the thread.
void yield();

// Live user goroutines of the current run, the main goroutine included (Go's NumGoroutine).
int num_goroutine();

// The calling goroutine's id; 0 on a plain thread.
GoroutineId goroutine_id();

// Ps of the current run; outside a run, the number a run would use by default.
int procs();

// Runs a blocking system call or foreign library call. The goroutine's P is handed to another
// thread meanwhile (Go's entersyscall/exitsyscall), so other goroutines keep running.
void enter_blocking();
void exit_blocking();
template <class F>
decltype(auto) blocking(F&& f) {
  struct Guard {
    Guard() { enter_blocking(); }
    ~Guard() { exit_blocking(); }
  } guard;
  return std::forward<F>(f)();
}

}  // namespace gocxx

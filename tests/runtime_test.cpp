// The scheduler: run/go/yield/blocking, goroutine identity and counting, the registry's
// states and wait reasons, stacks.
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>

#include "diag/stacktrace.hpp"
#include "runtime/registry.hpp"
#include "runtime/scheduler.hpp"
#include "test_util.hpp"

using namespace std::chrono_literals;
using gocxx::test::run_with;
using gocxx::test::scaled;
using gocxx::test::eventually;


TEST(Run, ReturnsMainsExitCode) {
  EXPECT_EQ(gocxx::run([] { return 7; }), 7);
  EXPECT_EQ(gocxx::run([] {}), 0);
}

TEST(Run, RepeatedRunsWithDifferentProcs) {
  for (int i = 0; i < 20; ++i) {
    int procs = 1 + i % 4;
    int seen = 0;
    run_with(procs, [&] {
      seen = gocxx::procs();
      gocxx::Chan<int> c;
      gocxx::go([c]() mutable { c.send(1); });
      EXPECT_EQ(c.recv(), 1);
    });
    EXPECT_EQ(seen, procs);
  }
}

TEST(Run, RejectsNestedRunAndBadOptions) {
  run_with(2, [] { EXPECT_THROW(gocxx::run([] {}), std::logic_error); });
  EXPECT_THROW(gocxx::run([] {}, gocxx::Options{.procs = -1}), std::invalid_argument);
  // Bounded like GOCXX_MAXPROCS (a million Ps took 2.5 GB before the check).
  for (int procs : {gocxx::kMaxProcs + 1, 1'000'000, 10'000'000}) {
    try {
      gocxx::run([] {}, gocxx::Options{.procs = procs});
      ADD_FAILURE() << "procs = " << procs << " accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_THAT(e.what(), ::testing::HasSubstr("Options::procs must be in [0, gocxx::kMaxProcs"));
    }
  }
}

TEST(Run, MaxprocsFromEnvironment) {
  setenv("GOCXX_MAXPROCS", "3", 1);
  int seen = 0;
  gocxx::run([&] { seen = gocxx::procs(); });
  unsetenv("GOCXX_MAXPROCS");
  EXPECT_EQ(seen, 3);
}

TEST(Goroutine, IdsAreUniqueAndMainIsOne) {
  EXPECT_EQ(gocxx::goroutine_id(), 0u);  // a plain thread
  run_with(2, [] {
    EXPECT_EQ(gocxx::goroutine_id(), 1u);
    constexpr int kCount = 100;
    gocxx::Chan<std::pair<gocxx::GoroutineId, gocxx::GoroutineId>> ids(kCount);
    std::set<gocxx::GoroutineId> returned;
    for (int i = 0; i < kCount; ++i) {
      returned.insert(gocxx::go([ids]() mutable {
        ids.send({gocxx::goroutine_id(), gocxx::goroutine_id()});
      }));
    }
    std::set<gocxx::GoroutineId> reported;
    for (int i = 0; i < kCount; ++i) reported.insert(ids.recv()->first);
    EXPECT_EQ(reported.size(), size_t(kCount));
    EXPECT_EQ(reported, returned);  // go() returns the id the goroutine sees
    EXPECT_EQ(reported.count(1), 0u);
  });
}

TEST(Goroutine, ArgumentsAreCopiedOrMoved) {
  run_with(2, [] {
    gocxx::Chan<int> out;
    auto owned = std::make_unique<int>(41);
    std::string text = "copied";
    gocxx::go(
        [out](std::unique_ptr<int> p, std::string s) mutable {
          out.send(*p + 1);
          out.send(static_cast<int>(s.size()));
        },
        std::move(owned), text);
    text = "changed after go()";  // the goroutine has its own copy
    EXPECT_EQ(out.recv(), 42);
    EXPECT_EQ(out.recv(), 6);
  });
}

TEST(Goroutine, NumGoroutineCountsLiveUserGoroutines) {
  run_with(2, [] {
    EXPECT_EQ(gocxx::num_goroutine(), 1);
    gocxx::Chan<int> block;
    gocxx::sync::WaitGroup started;
    for (int i = 0; i < 10; ++i) {
      started.add(1);
      gocxx::go([&] {
        started.done();
        block.recv();
      });
    }
    started.wait();
    EXPECT_EQ(gocxx::num_goroutine(), 11);
    block.close();
    ASSERT_TRUE(eventually([] { return gocxx::num_goroutine() == 1; }));
    EXPECT_EQ(gocxx::num_goroutine(), 1);
  });
  EXPECT_EQ(gocxx::num_goroutine(), 0);  // outside a run
}

TEST(Goroutine, YieldLetsOthersRunOnOneP) {
  run_with(1, [] {
    std::atomic<bool> other_ran{false};
    gocxx::go([&] { other_ran = true; });
    // With one P and no preemption, the other goroutine runs only if we yield.
    while (!other_ran) gocxx::yield();
    EXPECT_TRUE(other_ran);
  });
}

TEST(Goroutine, ManyGoroutines) {
  int n = scaled(100000);
  std::atomic<int> ran{0};
  run_with(2, [&] {
    gocxx::sync::WaitGroup wg;
    wg.add(n);
    for (int i = 0; i < n; ++i) {
      gocxx::go([&] {
        ran.fetch_add(1, std::memory_order_relaxed);
        wg.done();
      });
    }
    wg.wait();
  });
  EXPECT_EQ(ran.load(), n);
}

// One after another, so each spawn recycles the G the previous one left: tens of thousands of
// lives of one G. Not scaled down under the sanitizers: TSan's per-fiber shadow stack used to
// overflow after some 20,000 lives of a G (src/runtime/context.hpp, init_fiber).
TEST(Goroutine, OneGLivesManyLives) {
  constexpr int kLives = 50000;
  int ran = 0;
  run_with(1, [&] {
    gocxx::Chan<int> done;
    for (int i = 0; i < kLives; ++i) {
      gocxx::go([done]() mutable { done.send(1); });
      ran += *done.recv();
    }
  });
  EXPECT_EQ(ran, kLives);
}

TEST(Goroutine, NestedSpawnTree) {
  // Each goroutine spawns two children down to a depth; results flow back over channels.
  std::function<void(int, gocxx::Chan<long>)> node = [&](int depth, gocxx::Chan<long> out) {
    if (depth == 0) {
      out.send(1);
      return;
    }
    gocxx::Chan<long> kids;
    gocxx::go(node, depth - 1, kids);
    gocxx::go(node, depth - 1, kids);
    out.send(*kids.recv() + *kids.recv());
  };
  for (int procs : {1, 4}) {
    long leaves = 0;
    run_with(procs, [&] {
      gocxx::Chan<long> root;
      gocxx::go(node, scaled(100000) > 10000 ? 12 : 8, root);
      leaves = *root.recv();
    });
    EXPECT_EQ(leaves, scaled(100000) > 10000 ? 4096 : 256);
  }
}

TEST(Goroutine, SpawnFromPlainThread) {
  run_with(2, [] {
    gocxx::Chan<gocxx::GoroutineId> out;
    std::thread t([&] { gocxx::go([out]() mutable { out.send(gocxx::goroutine_id()); }); });
    EXPECT_GT(*out.recv(), 1u);
    t.join();
  });
}

TEST(Goroutine, LargeStackPerSpawn) {
  run_with(2, [] {
    gocxx::Chan<int> out;
    gocxx::go(gocxx::SpawnOptions{.stack_size = 8 << 20}, [out]() mutable {
      volatile char big[2 << 20];  // 2 MiB: far beyond the 256 KiB default
      big[0] = 1;
      big[sizeof big - 1] = 2;
      out.send(big[0] + big[sizeof big - 1]);
    });
    EXPECT_EQ(out.recv(), 3);
  });
}

// The C++ runtime keeps caught and uncaught exceptions per thread. A goroutine that parks inside
// a catch block (or in a destructor run by unwinding) must find its own exceptions when it
// resumes, whichever thread it resumes on and whatever other goroutines caught meanwhile.
struct Thrown {
  int id;
};

TEST(Goroutine, ExceptionStateFollowsTheGoroutineAcrossSwitches) {
  for (int procs : {1, 4}) {
    run_with(procs, [] {
      constexpr int kGoroutines = 8;
      std::atomic<int> rethrew_own{0}, wrong{0};
      gocxx::Chan<int> relay(1);
      gocxx::sync::WaitGroup wg;
      for (int id = 0; id < kGoroutines; ++id) {
        wg.add(1);
        gocxx::go([&, id]() mutable {
          for (int i = 0; i < 200; ++i) {
            try {
              throw Thrown{id};
            } catch (const Thrown&) {
              relay.send(id);  // parks now and then: the buffer holds one
              relay.recv();
              gocxx::yield();
              try {
                throw;  // the exception this goroutine is handling, not another's
              } catch (const Thrown& again) {
                (again.id == id ? rethrew_own : wrong).fetch_add(1);
              }
              if (std::uncaught_exceptions() != 0) wrong.fetch_add(1);
            }
          }
          wg.done();
        });
      }
      wg.wait();
      EXPECT_EQ(rethrew_own.load(), kGoroutines * 200);
      EXPECT_EQ(wrong.load(), 0);
    });
  }
}

TEST(Goroutine, UncaughtExceptionCountFollowsTheGoroutine) {
  for (int procs : {1, 2}) {
    run_with(procs, [] {
      // The destructor parks while its goroutine unwinds; the other goroutine runs meanwhile
      // (on the same thread with one P).
      gocxx::Chan<int> unwinding, resume, done;
      struct ParksWhileUnwinding {
        gocxx::Chan<int> unwinding, resume;
        int* seen;
        ~ParksWhileUnwinding() {
          unwinding.send(0);
          resume.recv();
          *seen = std::uncaught_exceptions();
        }
      };
      int seen = -1, other_saw = -1;
      gocxx::go([&]() mutable {
        try {
          ParksWhileUnwinding guard{unwinding, resume, &seen};
          throw Thrown{1};
        } catch (const Thrown&) {
        }
        done.send(0);
      });
      gocxx::go([&]() mutable {
        unwinding.recv();
        other_saw = std::uncaught_exceptions();
        resume.send(0);
        done.send(0);
      });
      done.recv();
      done.recv();
      EXPECT_EQ(seen, 1);       // still unwinding when it resumed
      EXPECT_EQ(other_saw, 0);  // the other goroutine never counted that exception
    });
  }
}

TEST(Blocking, HandsThePToOtherGoroutines) {
  // One P. The goroutine in blocking() waits for a value that only another goroutine can
  // produce: this completes only if blocking() released the P.
  run_with(1, [] {
    std::promise<int> promise;
    std::future<int> future = promise.get_future();
    gocxx::Chan<int> done;
    gocxx::go([&] {
      int v = gocxx::blocking([&] { return future.get(); });
      done.send(v);
    });
    gocxx::go([&] { promise.set_value(99); });
    EXPECT_EQ(done.recv(), 99);
  });
}

TEST(Blocking, ManyConcurrentBlockingCalls) {
  run_with(2, [] {
    constexpr int kCalls = 16;
    gocxx::sync::WaitGroup wg;
    std::atomic<int> inside{0}, max_inside{0};
    std::promise<void> release;
    std::shared_future<void> gate = release.get_future().share();
    for (int i = 0; i < kCalls; ++i) {
      wg.add(1);
      gocxx::go([&] {
        gocxx::blocking([&] {
          int now = inside.fetch_add(1) + 1;
          int seen = max_inside.load();
          while (now > seen && !max_inside.compare_exchange_weak(seen, now)) {
          }
          gate.wait();
        });
        inside.fetch_sub(1);
        wg.done();
      });
    }
    // All 16 are blocked at once on 2 Ps: each got its own thread.
    ASSERT_TRUE(eventually([&] { return inside.load() == kCalls; }));
    release.set_value();
    wg.wait();
    EXPECT_EQ(max_inside.load(), kCalls);
  });
}

TEST(Blocking, PlainThreadJustRuns) {
  EXPECT_EQ(gocxx::blocking([] { return 5; }), 5);
}

TEST(Idle, SleepingGoroutinesUseLittleCpu) {
  // All goroutines asleep: the Ms must sleep too, not spin. Measured over a window in which
  // everything is parked (spawning and shutdown are not idle time).
  auto cpu_us = [] {
    rusage r{};
    getrusage(RUSAGE_SELF, &r);
    return (r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1'000'000L + r.ru_utime.tv_usec +
           r.ru_stime.tv_usec;
  };
  long used_us = 0, window_us = 0;
  run_with(2, [&] {
    gocxx::sync::WaitGroup wg;
    for (int i = 0; i < 100; ++i) {
      wg.add(1);
      gocxx::go([&] {
        gocxx::time::sleep(1500ms);
        wg.done();
      });
    }
    gocxx::time::sleep(200ms);  // let them all park
    long cpu_before = cpu_us();
    auto wall_before = std::chrono::steady_clock::now();
    gocxx::time::sleep(500ms);
    used_us = cpu_us() - cpu_before;
    window_us = std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::steady_clock::now() - wall_before)
                    .count();
    wg.wait();
  });
  // A spinning M would use a whole core (two Ms: twice the window). Generous bound: a quarter
  // of one core, which also absorbs sanitizer runtimes' background threads.
  EXPECT_LT(used_us, window_us / 4) << "cpu " << used_us << "us over " << window_us << "us";
}

// ---- registry: states, wait reasons, creation sites ------------------------------------

namespace {

struct Snapshot {
  std::uint32_t status;
  std::string reason;
  gocxx::GoroutineId parent;
  std::uintptr_t create_pc;
};

std::map<gocxx::GoroutineId, Snapshot> snapshot() {
  std::map<gocxx::GoroutineId, Snapshot> out;
  gocxx::detail::registry_for_each(
      [](gocxx::detail::G* g, void* arg) {
        auto* m = static_cast<std::map<gocxx::GoroutineId, Snapshot>*>(arg);
        std::uint32_t status = g->status.load() & ~gocxx::detail::kScanBit;
        if (status == gocxx::detail::kDead || status == gocxx::detail::kIdle) return;
        if (g->generation != gocxx::detail::current_runtime()->generation) return;
        (*m)[g->id] = {status, gocxx::detail::wait_reason_string(g->wait_reason.load()),
                       g->parent_id, g->create_pc};
      },
      &out);
  return out;
}

}  // namespace

TEST(Registry, EveryParkRecordsGosWaitReason) {
  run_with(2, [] {
    gocxx::Chan<int> unbuffered, full(1), never;
    full.send(0);
    gocxx::sync::Mutex mu;
    gocxx::sync::RWMutex rw_for_reader, rw_for_writer;
    gocxx::sync::WaitGroup wg;
    gocxx::sync::Mutex cond_mu;
    gocxx::sync::Cond cond(cond_mu);
    mu.lock();
    rw_for_reader.lock();
    rw_for_writer.lock_shared();
    wg.add(1);

    std::map<gocxx::GoroutineId, std::string> expected;
    expected[gocxx::go([&] { unbuffered.send(1); })] = "chan send";
    expected[gocxx::go([&] { never.recv(); })] = "chan receive";
    expected[gocxx::go([&] { full.send(1); })] = "chan send";
    expected[gocxx::go([] { gocxx::Chan<int>::nil().recv(); })] = "chan receive (nil chan)";
    expected[gocxx::go([] { gocxx::Chan<int>::nil().send(1); })] = "chan send (nil chan)";
    expected[gocxx::go([&] { gocxx::select(gocxx::recv_case(never), gocxx::recv_case(never)); })] =
        "select";
    expected[gocxx::go([] { gocxx::select(); })] = "select (no cases)";
    expected[gocxx::go([&] { std::lock_guard g(mu); })] = "sync.Mutex.Lock";
    expected[gocxx::go([&] { rw_for_reader.lock_shared(); })] = "sync.RWMutex.RLock";
    expected[gocxx::go([&] { rw_for_writer.lock(); })] = "sync.RWMutex.Lock";
    expected[gocxx::go([&] { wg.wait(); })] = "sync.WaitGroup.Wait";
    expected[gocxx::go([&] {
      std::lock_guard g(cond_mu);
      cond.wait();
    })] = "sync.Cond.Wait";
    expected[gocxx::go([] { gocxx::time::sleep(1h); })] = "sleep";

    ASSERT_TRUE(eventually([&] {
      auto now = snapshot();
      for (auto& [id, reason] : expected) {
        auto it = now.find(id);
        if (it == now.end() || it->second.status != gocxx::detail::kWaiting) return false;
      }
      return true;
    }));
    auto now = snapshot();
    for (auto& [id, reason] : expected) {
      EXPECT_EQ(now[id].reason, reason) << "goroutine " << id;
      EXPECT_EQ(now[id].parent, 1u);
      // The creation site is this test body, not the runtime or gocxx::go.
      auto frames = gocxx::diag::symbolize(now[id].create_pc);
      bool in_this_file = false;
      for (auto& f : frames) in_this_file |= f.file.find("runtime_test.cpp") != std::string::npos;
      EXPECT_TRUE(in_this_file) << "goroutine " << id;
    }
    EXPECT_EQ(now[1].status, gocxx::detail::kRunning);
    // Main returns: the parked goroutines are abandoned, as in Go.
  });
}

// ---- death tests -------------------------------------------------------------------------

namespace {
[[gnu::noinline]] int recurse_forever(int depth) {
  volatile char frame[1024];
  frame[0] = static_cast<char>(depth);
  return recurse_forever(depth + 1) + frame[0];
}
}  // namespace

TEST(RuntimeDeathTest, StackOverflowIsReportedWithTheGoroutine) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(run_with(2,
                       [] {
                         gocxx::Chan<int> done;
                         gocxx::go([done]() mutable { done.send(recurse_forever(0)); });
                         done.recv();
                       }),
              testing::ExitedWithCode(2),
              "runtime: goroutine 2 stack exceeds [0-9]+-byte limit(.|\n)*fatal error: stack overflow");
}

// Go's main goroutine has no creator line (the handler's report ends as a panic's does).
TEST(RuntimeDeathTest, StackOverflowInMainHasNoCreatedBy) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(run_with(2, [] { recurse_forever(0); }), testing::ExitedWithCode(2),
              testing::AllOf(
                  testing::ContainsRegex("runtime: goroutine 1 stack exceeds [0-9]+-byte limit"
                                         "(.|\n)*fatal error: stack overflow"),
                  testing::Not(testing::HasSubstr("created by"))));
}

TEST(RuntimeDeathTest, GoOutsideRunPanics) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(gocxx::test::on_plain_thread([] { gocxx::go([] {}); }), testing::ExitedWithCode(2),
              "panic: gocxx::go called outside gocxx::run");
}

// ---- OS thread creation failure -----------------------------------------------------------

namespace {

// Makes every later attempt of this process to create a thread fail as an exhausted process
// limit does (EAGAIN), with a seccomp filter: deterministic, and unlike RLIMIT_NPROC it also
// applies to root. glibc tries clone3 first and falls back to clone on ENOSYS.
void forbid_new_threads() {
#if defined(__x86_64__)
  constexpr std::uint32_t kArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
  constexpr std::uint32_t kArch = AUDIT_ARCH_AARCH64;
#endif
  sock_filter code[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kArch, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone3, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args[0])),  // flags, low half
      BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_THREAD, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EAGAIN),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog prog{static_cast<unsigned short>(std::size(code)), code};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
      syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog) != 0) {
    std::perror("seccomp");
    std::_Exit(3);
  }
  try {
    std::thread([] {}).join();
    std::_Exit(4);  // the filter did not take
  } catch (const std::system_error&) {
  }
}

}  // namespace

// Go: "runtime: failed to create new OS thread ... fatal error: newosproc". Before, the error
// became a panic blamed on the goroutine, and catching it left a P with no M.
TEST(RuntimeDeathTest, ThreadCreationFailureIsFatal) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(run_with(1,
                       [] {
                         forbid_new_threads();
                         gocxx::go([] {});  // queued: the blocking call below must hand off its P
                         try {
                           gocxx::blocking([] {});
                         } catch (...) {
                         }
                         std::_Exit(0);  // the runtime went on without its M
                       }),
              testing::ExitedWithCode(2),
              "runtime: failed to create new OS thread \\(have [0-9]+ already; errno=11\\)"
              "(.|\n)*fatal error: newosproc");
}

// The same when run() itself needs its first thread.
TEST(RuntimeDeathTest, ThreadCreationFailureInRunIsFatal) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        forbid_new_threads();
        try {
          run_with(1, [] {});
        } catch (...) {
        }
        std::_Exit(0);
      },
      testing::ExitedWithCode(2), "fatal error: newosproc");
}

// ---- fork without exec --------------------------------------------------------------------

namespace {

struct ForkedChild {
  pid_t pid = 0;     // 0 in the child
  int err_fd = -1;   // the parent's end of the child's stderr
  int status = 0;    // as waitpid reports it
  std::string err;   // what the child wrote to stderr
};

// Forks with the child's stderr on a pipe. A child that hangs is killed after 20 s.
ForkedChild fork_child() {
  int fds[2];
  if (pipe(fds) != 0) std::abort();
  ForkedChild child;
  child.pid = fork();
  if (child.pid == 0) {
    alarm(20);
    dup2(fds[1], 2);
  } else {
    child.err_fd = fds[0];
  }
  close(child.pid == 0 ? fds[0] : fds[1]);
  if (child.pid == 0) close(fds[1]);
  return child;
}

void wait_for(ForkedChild& child) {
  gocxx::blocking([&] {  // on a plain thread it just runs
    char buf[256];
    for (ssize_t n; (n = read(child.err_fd, buf, sizeof buf)) > 0;) child.err.append(buf, n);
    close(child.err_fd);
    waitpid(child.pid, &child.status, 0);
  });
}

// Runs `body` in a forked child, which then _exits 0; returns what became of it.
template <class F>
ForkedChild in_forked_child(F body) {
  ForkedChild child = fork_child();
  if (child.pid == 0) {
    body();
    _exit(0);
  }
  wait_for(child);
  return child;
}

bool exited_with(const ForkedChild& child, int code) {
  return WIFEXITED(child.status) && WEXITSTATUS(child.status) == code;
}

const char kForkFatal[] =
    "fatal error: gocxx: fork without exec: the runtime cannot run in a child process (its "
    "threads were not copied)\n";

}  // namespace

TEST(Fork, ChildThatNeedsTheRuntimeFailsLoudly) {
  // Go: fork without exec is unsupported. Each of these hung or misbehaved in the child.
  std::vector<std::pair<std::string, std::function<void()>>> uses = {
      {"sleep", [] { gocxx::time::sleep(1ms); }},
      {"channel receive", [] { gocxx::Chan<int>().recv(); }},
      {"yield", [] { gocxx::yield(); }},
      {"go", [] { gocxx::go([] {}); }},
      {"run", [] { gocxx::run([] {}); }},
      {"blocking", [] { gocxx::blocking([] {}); }},
      {"a timer", [] { gocxx::time::Timer t(1ms); }},
      {"return from the goroutine", nullptr},
  };
  run_with(2, [&] {
    for (auto& [what, use] : uses) {
      gocxx::Chan<ForkedChild> result;
      gocxx::go([&use, result]() mutable {
        ForkedChild child = fork_child();
        if (child.pid == 0) {
          if (!use) return;  // the forking goroutine returns, in the child
          use();
          _exit(0);  // `use` went unnoticed
        }
        wait_for(child);
        result.send(child);
      });
      ForkedChild child = result.recv().value();
      EXPECT_TRUE(exited_with(child, 2)) << what << ": status " << child.status << ", stderr: "
                                         << child.err;
      EXPECT_EQ(child.err, kForkFatal) << what;
    }
  });
}

TEST(Fork, ChildThatExecsOrExitsIsUnaffected) {
  run_with(2, [] {
    ForkedChild exec = in_forked_child([] {
      execl("/bin/sh", "sh", "-c", "echo exec ran >&2; exit 7", static_cast<char*>(nullptr));
    });
    EXPECT_TRUE(exited_with(exec, 7)) << exec.status;
    EXPECT_EQ(exec.err, "exec ran\n");
    ForkedChild exits = in_forked_child([] { _exit(5); });
    EXPECT_TRUE(exited_with(exits, 5)) << exits.status;
    EXPECT_EQ(exits.err, "");
  });
}

TEST(ForkDeathTest, ForkBeforeAnyRunLeavesTheChildAFreshProcess) {
  // In a process of its own (the death test's), which has had no gocxx thread yet.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        ForkedChild child = in_forked_child([] {
          int got = 0;
          gocxx::run([&] {
            gocxx::Chan<int> c;
            gocxx::go([c]() mutable {
              gocxx::time::sleep(1ms);
              c.send(42);
            });
            got = c.recv().value();
          });
          _exit(got == 42 ? 0 : 1);
        });
        std::fprintf(stderr, "child status %d, stderr [%s]\n", child.status, child.err.c_str());
        std::_Exit(0);
      },
      testing::ExitedWithCode(0), "^child status 0, stderr \\[\\]\n$");
}

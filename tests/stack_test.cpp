// Goroutine stacks: every stack is guarded (an overflow is always reported and names its
// goroutine, however many stacks exist), the limits on stack sizes, and the report of a fault
// (nil dereference) on a goroutine.
#include <gmock/gmock.h>
#include <signal.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "test_util.hpp"

using gocxx::detail::current_g;
using gocxx::test::in_goroutine;
using gocxx::test::run_with;
using testing::HasSubstr;

namespace {

constexpr std::size_t kStack = 256 << 10;

// Recurses with small frames, touching each, until they reach `floor`, then returns: an
// overflow that never switches away, which nothing but a guard page can catch.
[[gnu::noinline]] int recurse_down_to(std::uintptr_t floor, int depth) {
  volatile char frame[512];
  frame[0] = static_cast<char>(depth);
  if (reinterpret_cast<std::uintptr_t>(&frame[0]) > floor) {
    return recurse_down_to(floor, depth + 1) + frame[0];
  }
  return frame[0];
}

// Overflows the calling goroutine's stack by `past` bytes, then returns.
int overflow_by(std::size_t past) {
  auto bottom = reinterpret_cast<std::uintptr_t>(current_g()->stack.bottom);
  return recurse_down_to(bottom - past, 0);
}

// How many memory mappings (of /proc/self/maps) hold these addresses.
std::size_t mappings_holding(const std::vector<std::uintptr_t>& addrs) {
  std::map<std::uintptr_t, std::uintptr_t> ranges;  // start -> end
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    std::size_t dash = line.find('-');
    ranges[std::stoull(line.substr(0, dash), nullptr, 16)] =
        std::stoull(line.substr(dash + 1), nullptr, 16);
  }
  std::set<std::uintptr_t> holding;
  for (std::uintptr_t a : addrs) {
    auto it = ranges.upper_bound(a);
    if (it != ranges.begin() && a < (--it)->second) holding.insert(it->first);
  }
  return holding.size();
}

// Whether this process can read the page at `addr`, asked of the kernel (process_vm_readv on
// ourselves), so that a guard page answers EFAULT instead of faulting.
bool readable(std::uintptr_t addr) {
  char byte;
  iovec local{&byte, 1};
  iovec remote{reinterpret_cast<void*>(addr), 1};
  return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == 1;
}

// Counts, among `count` new stacks of `size` bytes (all alive at once), those whose guard page
// is readable and those whose own pages are not.
struct GuardCheck {
  int unguarded = 0, unreadable = 0;
};
GuardCheck check_new_stacks(int count, std::size_t size) {
  GuardCheck result;
  run_with(2, [&] {
    gocxx::Chan<int> gate;
    gocxx::sync::WaitGroup ready, exited;
    std::atomic<int> unguarded{0}, unreadable{0};
    ready.add(count);
    exited.add(count);
    for (int i = 0; i < count; ++i) {
      gocxx::go(gocxx::SpawnOptions{.stack_size = size}, [&, gate]() mutable {
        const gocxx::detail::Stack& s = current_g()->stack;
        auto guard = reinterpret_cast<std::uintptr_t>(s.guard);
        auto bottom = reinterpret_cast<std::uintptr_t>(s.bottom);
        if (readable(guard)) unguarded.fetch_add(1);
        if (!readable(bottom) || !readable(bottom + s.size - 1)) unreadable.fetch_add(1);
        ready.done();
        gate.recv();  // all alive at once, so every stack is a new one
        exited.done();
      });
    }
    ready.wait();
    result = {unguarded.load(), unreadable.load()};
    gate.close();
    exited.wait();
  });
  return result;
}

}  // namespace

// ---- every stack has a guard -------------------------------------------------------------

// Guards are installed for a batch of slots at a time: each of many new stacks, across batches
// and with the first one of each, has its guard page right below it, and only there.
TEST(Stack, EveryNewStackHasItsGuardPage) {
  // A stack size of its own: these stacks are new, not taken from the pool of earlier tests.
  GuardCheck c = check_new_stacks(100, 136 << 10);  // three batches and some
  EXPECT_EQ(c.unguarded, 0) << "stacks without a guard page, of 100";
  EXPECT_EQ(c.unreadable, 0) << "stacks with an unreadable end, of 100";
}

// Where process_madvise is refused (a container's seccomp filter, an older kernel), each stack
// is guarded alone, as before batching.
TEST(StackDeathTest, GuardsWithoutProcessMadvise) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  auto refused = [] {
    sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_process_madvise, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    sock_fprog program{static_cast<unsigned short>(std::size(filter)), filter};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0) {
      std::fprintf(stderr, "no seccomp filter: %s\n", std::strerror(errno));
      std::_Exit(1);
    }
    GuardCheck c = check_new_stacks(40, 140 << 10);
    std::fprintf(stderr, "unguarded %d, unreadable %d\n", c.unguarded, c.unreadable);
    std::_Exit(0);
  };
  EXPECT_EXIT(refused(), testing::ExitedWithCode(0), "unguarded 0, unreadable 0\n");
}

// Regression: with the default vm.max_map_count (65530) only the first ~24.5k stacks used to get a
// guard page. A goroutine beyond them that overflowed by a few KiB and returned before its next
// switch silently overwrote its neighbour's stack.
TEST(StackDeathTest, OverflowBeyondTheOldGuardBudgetIsReported) {
#if defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "TSan allows 8128 threads and fibers (one per goroutine) at most";
#endif
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  static constexpr int kParked = 30000;
  auto body = [] {
    gocxx::Chan<int> gate;
    for (int i = 0; i < kParked; ++i) gocxx::go([gate]() mutable { gate.recv(); });
    gocxx::Chan<int> done;
    gocxx::go([done]() mutable { done.send(overflow_by(6 << 10)); });
    done.recv();
  };
  // The main goroutine is 1, the parked ones 2..30001: the overflowing one is 30002.
  EXPECT_EXIT(gocxx::run(body, gocxx::Options{.procs = 2, .stack_size = kStack}),
              testing::ExitedWithCode(2),
              "runtime: goroutine 30002 stack exceeds 262144-byte limit\n"
              "(.|\n)*fatal error: stack overflow\n\ngoroutine 30002 \\[running\\]:\n"
              "(.|\n)*recurse_down_to(.|\n)*created by ");
}

// Guards are page-table markers inside the stacks' shared mappings: a stack does not cost a
// memory mapping of its own, so vm.max_map_count no longer limits how many are guarded.
TEST(Stack, GuardedStacksShareMappings) {
  if (!gocxx::detail::guard_regions_in_use()) {
    GTEST_SKIP() << "no MADV_GUARD_INSTALL (Linux 6.13): guards are mprotect'd pages";
  }
  static constexpr int kCount = 5000;
  // A stack size of its own: these stacks are new, not taken from the pool of earlier tests.
  static constexpr std::size_t kSize = 200 << 10;
  run_with(2, [] {
    gocxx::Chan<int> gate;
    gocxx::sync::WaitGroup ready, exited;
    gocxx::sync::Mutex mu;
    std::vector<std::uintptr_t> stacks;
    ready.add(kCount);
    exited.add(kCount);
    for (int i = 0; i < kCount; ++i) {
      gocxx::go(gocxx::SpawnOptions{.stack_size = kSize}, [&, gate]() mutable {
        const gocxx::detail::Stack& s = current_g()->stack;
        {
          std::lock_guard lk(mu);
          stacks.push_back(reinterpret_cast<std::uintptr_t>(s.guard));  // in the mapping too
          stacks.push_back(reinterpret_cast<std::uintptr_t>(s.bottom));
        }
        ready.done();
        gate.recv();
        exited.done();
      });
    }
    ready.wait();
    EXPECT_LT(mappings_holding(stacks), std::size_t{kCount / 50})
        << "memory mappings holding " << kCount << " guarded stacks";
    gate.close();
    exited.wait();
  });
}

// Kernels before 6.13: a guard is an mprotect'd page (two mappings), and an overflow onto it
// is reported the same way.
TEST(StackDeathTest, MprotectGuardCatchesOverflow) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  auto body = [] {
    gocxx::detail::use_mprotect_guards_for_testing(100);
    gocxx::Chan<int> done;
    gocxx::go([done]() mutable { done.send(overflow_by(6 << 10)); });
    done.recv();
  };
  EXPECT_EXIT(gocxx::run(body, gocxx::Options{.procs = 2, .stack_size = kStack}),
              testing::ExitedWithCode(2),
              "runtime: goroutine 2 stack exceeds 262144-byte limit\n"
              "(.|\n)*fatal error: stack overflow\n");
}

// GOCXX_STACK_GUARD=mprotect (for gdb's gcore, which cannot copy a mapping with guard regions):
// the guard page is a mapping of its own.
TEST(StackDeathTest, MprotectGuardsOnRequest) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  auto run_with_guard_env = [](const char* value) {
    setenv("GOCXX_STACK_GUARD", value, 1);
    gocxx::run([] {
      const gocxx::detail::Stack& s = current_g()->stack;
      std::fprintf(stderr, "regions %d, mappings %zu\n", gocxx::detail::guard_regions_in_use(),
                   mappings_holding({reinterpret_cast<std::uintptr_t>(s.guard),
                                     reinterpret_cast<std::uintptr_t>(s.bottom)}));
    });
    std::_Exit(0);
  };
  EXPECT_EXIT(run_with_guard_env("mprotect"), testing::ExitedWithCode(0),
              "^regions 0, mappings 2\n");
  EXPECT_EXIT(run_with_guard_env("pages"), testing::ExitedWithCode(0),
              "gocxx: ignoring invalid GOCXX_STACK_GUARD=pages");
}

// When vm.max_map_count has no room for another mprotect'd guard, spawning is a fatal error
// that says what to raise, rather than a stack without a guard.
TEST(StackDeathTest, NoRoomForAGuardIsAFatalErrorNamingMaxMapCount) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  auto body = [] {
    gocxx::detail::use_mprotect_guards_for_testing(50);
    gocxx::Chan<int> gate;
    for (int i = 0; i < 100; ++i) gocxx::go([gate]() mutable { gate.recv(); });
  };
  EXPECT_EXIT(gocxx::run(body, gocxx::Options{.procs = 2, .stack_size = kStack}),
              testing::ExitedWithCode(2),
              "runtime: cannot guard another goroutine stack: vm.max_map_count=[0-9]+ allows 50 "
              "guarded stacks and this kernel lacks MADV_GUARD_INSTALL \\(Linux 6.13\\); raise "
              "vm.max_map_count\n"
              "fatal error: too many goroutine stacks\n\ngoroutine 1 \\[running\\]:");
}

// ---- stack sizes ---------------------------------------------------------------------------

namespace {

// In a death-test child: runs with GOCXX_STACK_SIZE=value and prints the stack size used.
[[noreturn]] void run_with_stack_env(const char* value) {
  setenv("GOCXX_STACK_SIZE", value, 1);
  gocxx::run([] { std::fprintf(stderr, "stack size %zu\n", current_g()->stack.size); });
  std::_Exit(0);
}

}  // namespace

// Regression: a negative or overflowing GOCXX_STACK_SIZE used to wrap to a zero-byte stack and
// crash with a bare SIGSEGV.
TEST(StackSizeDeathTest, InvalidEnvironmentValueIsIgnored) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const std::pair<const char*, const char*> cases[] = {
      {"-5", "-5"},
      {"99999999999999999999", "99999999999999999999"},
      {"+5", "\\+5"},
      {"5k", "5k"},
      {"0", "0"},
      {"1073741825", "1073741825"},  // 1 GiB + 1
  };
  for (auto [value, pattern] : cases) {
    EXPECT_EXIT(run_with_stack_env(value), testing::ExitedWithCode(0),
                std::string("gocxx: ignoring invalid GOCXX_STACK_SIZE=") + pattern +
                    "(.|\n)*stack size 262144\n")
        << value;
  }
}

TEST(StackSizeDeathTest, ValidEnvironmentValueIsUsed) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(run_with_stack_env("65536"), testing::ExitedWithCode(0), "^stack size 65536\n");
  EXPECT_EXIT(run_with_stack_env("1073741824"), testing::ExitedWithCode(0),
              "^stack size 1073741824\n");
}

TEST(StackSize, OptionsOutOfRangeThrows) {
  for (std::size_t size : {SIZE_MAX, (std::size_t{1} << 30) + 1}) {
    try {
      gocxx::run([] {}, gocxx::Options{.stack_size = size});
      ADD_FAILURE() << "no exception for stack_size " << size;
    } catch (const std::invalid_argument& e) {
      EXPECT_THAT(e.what(), HasSubstr("Options::stack_size")) << size;
    }
  }
  // The maximum itself is fine: the stack is only reserved, not committed.
  auto mib = [] { return static_cast<int>(current_g()->stack.size >> 20); };
  EXPECT_EQ(gocxx::run(mib, gocxx::Options{.stack_size = std::size_t{1} << 30}), 1024);
}

TEST(StackSize, SpawnOptionsOutOfRangePanics) {
  run_with(2, [] {
    for (std::size_t size : {SIZE_MAX, (std::size_t{1} << 30) + 1}) {
      try {
        gocxx::go(gocxx::SpawnOptions{.stack_size = size}, [] {});
        ADD_FAILURE() << "no panic for stack_size " << size;
      } catch (const gocxx::Panic& p) {
        EXPECT_THAT(p.value().message(), HasSubstr("SpawnOptions::stack_size")) << size;
      }
    }
    gocxx::Chan<std::size_t> size;
    gocxx::go(gocxx::SpawnOptions{.stack_size = std::size_t{1} << 30},
              [size]() mutable { size.send(current_g()->stack.size); });
    EXPECT_EQ(size.recv(), std::size_t{1} << 30);
  });
}

// ---- faults on goroutines ------------------------------------------------------------------

namespace {

int* volatile g_nil = nullptr;

// noipa: the compiler must not see the null argument (it would turn the store into a trap);
// UBSan (in the ASan build) must not report the store before it faults.
[[gnu::noinline, gnu::noipa, gnu::no_sanitize_undefined]] void store_through(int* p) { *p = 42; }


// A sanitizer's SEGV handler is installed before gocxx's, which hands it every fault but stack
// overflows: then the sanitizer reports the fault, with its own exit status.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitizerReportsFaults = true;
constexpr int kSanitizerExit = 1;
constexpr const char* kSanitizerReport =
    "AddressSanitizer: SEGV on unknown address(.|\n)*store_through";
#elif defined(__SANITIZE_THREAD__)
constexpr bool kSanitizerReportsFaults = true;
constexpr int kSanitizerExit = 66;
constexpr const char* kSanitizerReport = "ThreadSanitizer: SEGV on unknown address";
#else
constexpr bool kSanitizerReportsFaults = false;
constexpr int kSanitizerExit = 0;
constexpr const char* kSanitizerReport = "";
#endif

}  // namespace

// Regression: a nil dereference in a goroutine used to be a bare SIGSEGV that named no goroutine.
TEST(FaultDeathTest, NilDereferenceNamesTheGoroutine) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  auto fault = [] { in_goroutine([] { store_through(g_nil); }); };
  if (kSanitizerReportsFaults) {
    EXPECT_EXIT(fault(), testing::ExitedWithCode(kSanitizerExit), kSanitizerReport);
    return;
  }
  EXPECT_EXIT(fault(), testing::ExitedWithCode(2),
              "panic: runtime error: invalid memory address or nil pointer dereference\n"
              "\\[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x[0-9a-f]+\\]\n"
              "\ngoroutine 2 \\[running\\]:\n"
              "[^\n]*store_through\\(\\.\\.\\.\\)\n\t.*stack_test.cpp:[0-9]+ \\+0x[0-9a-f]+\n"
              "(.|\n)*created by (.|\n)* in goroutine 1\n");
}

// Go: "unexpected fault address" and "fatal error: fault" for a bad address that is not nil.
TEST(FaultDeathTest, BadAddressIsAFatalFault) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  auto fault = [] {
    void* page = mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    in_goroutine([page] { store_through(static_cast<int*>(page) + 4); });
  };
  if (kSanitizerReportsFaults) {
    EXPECT_EXIT(fault(), testing::ExitedWithCode(kSanitizerExit), kSanitizerReport);
    return;
  }
  EXPECT_EXIT(fault(), testing::ExitedWithCode(2),
              "unexpected fault address 0x[0-9a-f]+010\nfatal error: fault\n"
              "\\[signal SIGSEGV: segmentation violation code=0x2 addr=0x[0-9a-f]+010 "
              "pc=0x[0-9a-f]+\\]\n\ngoroutine 2 \\[running\\]:\n"
              "[^\n]*store_through\\(\\.\\.\\.\\)");
}

// A fault on a plain thread is not a goroutine's: the signal's default action, as before.
TEST(FaultDeathTest, FaultOnPlainThreadKeepsTheDefaultAction) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  auto fault = [] { run_with(1, [] { std::thread([] { store_through(g_nil); }).join(); }); };
  if (kSanitizerReportsFaults) {
    EXPECT_EXIT(fault(), testing::ExitedWithCode(kSanitizerExit), kSanitizerReport);
  } else {
    EXPECT_EXIT(fault(), testing::KilledBySignal(SIGSEGV), "");
  }
}

// The extractors on artifacts Go 1.19 produced (captured from real runs, paths rewritten as the
// grader rewrites them): goroutine dumps and profiles, a deadlock report, race reports,
// -gcflags=-m output, go vet output.
#include <gtest/gtest.h>

#include "engine/extract.hpp"

namespace {

using namespace assess;
using namespace assess::extract;

// pprof.Lookup("goroutine").WriteTo(os.Stdout, 2): 5 producers, 2 Service loops, a mutex
// waiter, a select {}, a sleeper, and main.
constexpr const char* kDump = R"(goroutine 1 [running]:
runtime/pprof.writeGoroutineStacks({0x4fa0a8, 0xc000094008})
	/usr/lib/go-1.19/src/runtime/pprof/pprof.go:692 +0x70
runtime/pprof.(*Profile).WriteTo(0x4d546f?, {0x4fa0a8?, 0xc000094008?}, 0x60?)
	/usr/lib/go-1.19/src/runtime/pprof/pprof.go:330 +0x14b
main.main()
	/item/main.go:35 +0x205

goroutine 18 [chan send]:
main.producer(0x0?)
	/item/main.go:17 +0x25
created by main.main
	/item/main.go:24 +0x34

goroutine 19 [chan send, 2 minutes]:
main.producer(0x0?)
	/item/main.go:17 +0x25
created by main.main
	/item/main.go:24 +0x34

goroutine 20 [chan send]:
main.producer(0x0?)
	/item/main.go:17 +0x25
created by main.main
	/item/main.go:24 +0x34

goroutine 21 [chan send]:
main.producer(0x0?)
	/item/main.go:17 +0x25
created by main.main
	/item/main.go:24 +0x34

goroutine 22 [chan send]:
main.producer(0x0?)
	/item/main.go:17 +0x25
created by main.main
	/item/main.go:24 +0x34

goroutine 23 [chan receive]:
main.(*Service).loop(0x0?)
	/item/main.go:13 +0x36
created by main.main
	/item/main.go:27 +0x10a

goroutine 24 [chan receive, locked to thread]:
main.(*Service).loop(0x0?)
	/item/main.go:13 +0x36
created by main.main
	/item/main.go:28 +0x14a

goroutine 25 [semacquire]:
sync.runtime_SemacquireMutex(0x0?, 0x0?, 0x0?)
	/usr/lib/go-1.19/src/runtime/sema.go:77 +0x25
sync.(*Mutex).lockSlow(0xc0000a4010)
	/usr/lib/go-1.19/src/sync/mutex.go:171 +0x165
sync.(*Mutex).Lock(...)
	/usr/lib/go-1.19/src/sync/mutex.go:90
main.waiter(0x0?)
	/item/main.go:19 +0x31
created by main.main
	/item/main.go:31 +0x1b6

goroutine 26 [select (no cases)]:
main.main.func1()
	/item/main.go:32 +0x17
created by main.main
	/item/main.go:32 +0x1c5

goroutine 27 [sleep]:
time.Sleep(0x34630b8a000)
	/usr/lib/go-1.19/src/runtime/time.go:195 +0x135
main.main.func2()
	/item/main.go:33 +0x25
created by main.main
	/item/main.go:33 +0x1d1
)";

// The same program's profile at debug=1.
constexpr const char* kProfile = R"(goroutine profile: total 11
5 @ 0x437596 0x4053cc 0x404f7d 0x4b3c85 0x461141
#	0x4b3c84	main.producer+0x24	/item/main.go:17

2 @ 0x437596 0x4061db 0x405d18 0x4b3c36 0x461141
#	0x4b3c35	main.(*Service).loop+0x35	/item/main.go:13

1 @ 0x42d1d6 0x45c825 0x4aa3b5 0x4aa1cd 0x4a712b 0x4b3fc6 0x4371d2 0x461141
#	0x45c824	runtime/pprof.runtime_goroutineProfileWithLabels+0x24	/usr/lib/go-1.19/src/runtime/mprof.go:846
#	0x4a712a	runtime/pprof.(*Profile).WriteTo+0x14a			/usr/lib/go-1.19/src/runtime/pprof/pprof.go:330
#	0x4b3fc5	main.main+0x245						/item/main.go:37
#	0x4371d1	runtime.main+0x211					/usr/lib/go-1.19/src/runtime/proc.go:250

1 @ 0x437596 0x4462de 0x4462b5 0x45da05 0x466aa5 0x4b3cf1 0x4b3cd5 0x461141
#	0x45da04	sync.runtime_SemacquireMutex+0x24	/usr/lib/go-1.19/src/runtime/sema.go:77
#	0x466aa4	sync.(*Mutex).lockSlow+0x164		/usr/lib/go-1.19/src/sync/mutex.go:171
#	0x4b3cd4	main.waiter+0x14			/item/main.go:19

1 @ 0x437596 0x45e1d5 0x4b3d65 0x461141
# labels: {"worker":"a"}
#	0x45e1d4	time.Sleep+0x134	/usr/lib/go-1.19/src/runtime/time.go:195
#	0x4b3d64	main.main.func2+0x24	/item/main.go:33
)";

// A deadlock report (stderr, exit status 2).
constexpr const char* kDeadlock = R"(fatal error: all goroutines are asleep - deadlock!

goroutine 1 [chan receive]:
main.main()
	/item/main.go:9 +0xaa

goroutine 6 [chan receive]:
main.main.func1()
	/item/main.go:8 +0x34
created by main.main
	/item/main.go:8 +0x92
)";

constexpr const char* kRace = R"(==================
WARNING: DATA RACE
Read at 0x0000005da5c0 by goroutine 7:
  main.increment()
      /item/main.go:14 +0x66
  main.main.func1()
      /item/main.go:28 +0x39

Previous write at 0x0000005da5c0 by goroutine 8:
  main.increment()
      /item/main.go:14 +0x7e
  main.main.func1()
      /item/main.go:28 +0x39

Goroutine 7 (running) created at:
  main.main()
      /item/main.go:28 +0x69

Goroutine 8 (finished) created at:
  main.main()
      /item/main.go:28 +0x69
==================
Found 1 data race(s)
)";

// A map race: the top frames are the runtime's; the accesses are in two different functions.
constexpr const char* kMapRace = R"(==================
WARNING: DATA RACE
Write at 0x00c000092000 by goroutine 6:
  runtime.mapassign_faststr()
      /usr/lib/go-1.19/src/runtime/map_faststr.go:203 +0x0
  main.main.func1()
      /item/main.go:9 +0xa5

Previous write at 0x00c000092000 by main goroutine:
  runtime.mapassign_faststr()
      /usr/lib/go-1.19/src/runtime/map_faststr.go:203 +0x0
  main.main()
      /item/main.go:10 +0x12b

Goroutine 6 (running) created at:
  main.main()
      /item/main.go:9 +0x10e
==================
==================
WARNING: DATA RACE
Write at 0x00c000092008 by goroutine 9:
  main.other()
      /item/main.go:20 +0xa5

Previous read at 0x00c000092008 by main goroutine:
  main.reader()
      /item/main.go:21 +0x12b
==================
)";

constexpr const char* kEscapes = R"(# item
./main.go:17:6: can inline read
./main.go:19:6: can inline newP
./main.go:32:13: inlining call to fmt.Println
./main.go:12:16: leaking param: wg
./main.go:20:2: moved to heap: p
./main.go:25:6: moved to heap: wg
./main.go:32:13: ... argument does not escape
./main.go:32:13: counter escapes to heap
./main.go:32:29: (~R0).x escapes to heap
)";

constexpr const char* kVet = R"(# item
./main.go:12:12: use passes lock by value: item.T contains sync.Mutex
./main.go:15:7: the cancel function returned by context.WithTimeout should be called, not discarded, to avoid a context leak
)";

DiagnoseSpec spec(std::string extract, std::vector<std::string> choices) {
  DiagnoseSpec d;
  d.artifact = "run";
  d.extract = std::move(extract);
  d.choices = std::move(choices);
  return d;
}

TEST(Extract, ParsesAGoroutineDump) {
  std::vector<Goroutine> gs = parse_dump(kDump);
  ASSERT_EQ(gs.size(), 11u);
  EXPECT_EQ(gs[0].id, 1u);
  EXPECT_EQ(gs[0].wait_reason, "running");
  EXPECT_EQ(gs[0].functions.back(), "main.main");
  EXPECT_EQ(gs[0].functions.front(), "runtime/pprof.writeGoroutineStacks");
  EXPECT_EQ(gs[2].wait_reason, "chan send");  // ", 2 minutes" dropped
  EXPECT_EQ(gs[7].wait_reason, "chan receive");  // ", locked to thread" dropped
  EXPECT_EQ(gs[7].functions, std::vector<std::string>{"main.(*Service).loop"});  // not the creator
  EXPECT_EQ(gs[8].functions.back(), "main.waiter");
  EXPECT_EQ(gs[8].functions[2], "sync.(*Mutex).Lock");  // inlined "(...)"
  EXPECT_EQ(gs[9].wait_reason, "select (no cases)");
}

TEST(Extract, GroupsADumpByInnermostMainFunction) {
  std::vector<LeakGroup> groups = leak_groups(kDump);
  ASSERT_GE(groups.size(), 3u);
  EXPECT_EQ(groups[0].function, "main.producer");
  EXPECT_EQ(groups[0].count, 5);
  EXPECT_EQ(groups[0].wait_reasons.at("chan send"), 5);
  EXPECT_EQ(groups[1].function, "main.(*Service).loop");
  EXPECT_EQ(groups[1].count, 2);
}

TEST(Extract, GroupsAProfileLikeTheDump) {
  std::vector<ProfileRecord> records = parse_profile(kProfile);
  ASSERT_EQ(records.size(), 5u);
  EXPECT_EQ(records[0].count, 5);
  EXPECT_EQ(records[0].functions, std::vector<std::string>{"main.producer"});
  EXPECT_EQ(records[4].functions.back(), "main.main.func2");  // after a "# labels:" line
  std::vector<LeakGroup> groups = leak_groups(kProfile);
  EXPECT_EQ(groups[0].function, "main.producer");
  EXPECT_EQ(groups[0].count, 5);
  EXPECT_TRUE(groups[0].wait_reasons.empty());  // debug=1 has none
}

TEST(Extract, LeakFunctionKeyIsTheLargestGroupsChoice) {
  Key k = key(spec("leak_function", {"main.waiter", "main.producer", "main.main", "runtime.gopark"}), {kDump});
  ASSERT_TRUE(k.choice) << k.problem;
  EXPECT_EQ(*k.choice, 1u);
  EXPECT_NE(k.shows.find("5 goroutines"), std::string::npos);
  k = key(spec("leak_function", {"main.waiter", "main.producer"}), {kProfile});
  ASSERT_TRUE(k.choice) << k.problem;
  EXPECT_EQ(*k.choice, 1u);
}

TEST(Extract, LeakFunctionTieIsABrokenItem) {
  // The deadlock report: main.main and main.main.func1, one goroutine each.
  Key k = key(spec("leak_function", {"main.main", "main.main.func1"}), {kDeadlock});
  EXPECT_FALSE(k.choice);
  EXPECT_NE(k.problem.find("tie"), std::string::npos) << k.problem;
}

TEST(Extract, NoMatchingChoiceIsABrokenItem) {
  Key k = key(spec("leak_function", {"main.consumer", "main.waiter"}), {kDump});
  EXPECT_FALSE(k.choice);
  EXPECT_NE(k.problem.find("no choice matches"), std::string::npos) << k.problem;
  k = key(spec("leak_function", {"main.main"}), {"no goroutines here\n"});
  EXPECT_NE(k.problem.find("no goroutine"), std::string::npos) << k.problem;
}

TEST(Extract, WaitReasonOfTheLargestGroup) {
  Key k = key(spec("wait_reason", {"chan receive", "chan send", "select", "semacquire"}), {kDump});
  ASSERT_TRUE(k.choice) << k.problem;
  EXPECT_EQ(*k.choice, 1u);
  k = key(spec("wait_reason", {"chan receive", "chan send"}), {kProfile});
  EXPECT_FALSE(k.choice);  // a profile has no wait reasons
}

TEST(Extract, RaceReportAccesses) {
  std::vector<RaceAccess> r = first_race(kRace);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].access, "Read");
  EXPECT_EQ(r[0].function, "main.increment");
  EXPECT_EQ(r[1].access, "Previous write");
  EXPECT_EQ(r[1].function, "main.increment");
  r = first_race(kMapRace);  // the runtime's frames are skipped; the second report is ignored
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].function, "main.main.func1");
  EXPECT_EQ(r[1].function, "main.main");
}

TEST(Extract, RaceFunctionKey) {
  Key k = key(spec("race_function", {"main.main", "main.increment", "main.read"}), {kRace});
  ASSERT_TRUE(k.choice) << k.problem;
  EXPECT_EQ(*k.choice, 1u);
  // Both accesses' functions among the choices: ambiguous.
  k = key(spec("race_function", {"main.main", "main.main.func1", "main.other"}), {kMapRace});
  EXPECT_FALSE(k.choice);
  EXPECT_NE(k.problem.find("both match"), std::string::npos) << k.problem;
  k = key(spec("race_function", {"main.main"}), {kDump});
  EXPECT_NE(k.problem.find("no race report"), std::string::npos);
}

TEST(Extract, HeapEscapes) {
  std::set<std::string> e = heap_escapes(kEscapes);
  EXPECT_EQ(e, (std::set<std::string>{"p", "wg", "counter", "(~R0).x"}));
  Key k = key(spec("moved_to_heap", {"x", "p", "i"}), {kEscapes});
  ASSERT_TRUE(k.choice) << k.problem;
  EXPECT_EQ(*k.choice, 1u);
  k = key(spec("moved_to_heap", {"p", "wg"}), {kEscapes});
  EXPECT_NE(k.problem.find("both match"), std::string::npos);
}

TEST(Extract, VetAnalyzerBySubstringOrAnalyzerName) {
  Key k = key(spec("vet_analyzer", {"passes lock by value", "loop variable", "unreachable code"}), {kVet});
  ASSERT_TRUE(k.choice) << k.problem;
  EXPECT_EQ(*k.choice, 0u);
  Artifact art{kVet, {"copylocks", "lostcancel"}};
  k = key(spec("vet_analyzer", {"loopclosure", "lostcancel", "printf"}), art);
  ASSERT_TRUE(k.choice) << k.problem;
  EXPECT_EQ(*k.choice, 1u);
  k = key(spec("vet_analyzer", {"copylocks", "lostcancel"}), art);
  EXPECT_NE(k.problem.find("both match"), std::string::npos);
}

TEST(Extract, EvidenceRegexes) {
  DiagnoseSpec d = spec("evidence", {"heap grows", "heap stable"});
  d.evidence = {{"heap grows", R"(\d+->\d+->([1-9]\d{2,}) MB)"}, {"heap stable", R"(->[0-9] MB, 4 MB goal)"}};
  std::string gctrace =
      "gc 1 @0.011s 2%: 0.015+0.56+0.003 ms clock, 0.030+0.10/0.42/0.10+0.006 ms cpu, 4->4->0 MB, 4 MB goal, 0 MB stacks, 0 MB globals, 2 P\n"
      "gc 9 @0.911s 9%: 0.015+0.56+0.003 ms clock, 0.030+0.10/0.42/0.10+0.006 ms cpu, 380->390->350 MB, 700 MB goal, 0 MB stacks, 0 MB globals, 2 P\n";
  Key k = key(d, {gctrace});
  EXPECT_NE(k.problem.find("both match"), std::string::npos);
  k = key(d, {gctrace.substr(gctrace.find("gc 9"))});
  ASSERT_TRUE(k.choice) << k.problem;
  EXPECT_EQ(*k.choice, 0u);
}

}  // namespace

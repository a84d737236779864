// Pressure-mode labs (engine/lab.hpp): the lab section of item.json, the judge on made-up
// evidence, and real labs: the tiny lab in lab-bank/ (its _lib links to the bank's Go packages
// assess/lab and assess/labrun) graded in the sandbox under gocxx-pressure, with the build
// tree's warm GOCACHE. Release builds only: it runs Go. The bank's own labs, with their
// known-wrong solutions, are checked by the assess.bank_check test.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include <gocxx/runtime.hpp>

#include "engine/bank.hpp"
#include "engine/grader.hpp"
#include "engine/lab.hpp"
#include "temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using namespace assess;
using nlohmann::json;
using ::testing::HasSubstr;
using gocxx::test::TempDir;
using ::testing::Not;

const fs::path kBank = ASSESS_TEST_LAB_BANK;
const fs::path kLab = kBank / "concurrency" / "01-tiny-lab";

void write(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::trunc) << text; }

std::string load_error(const fs::path& dir) {
  try {
    load_item(dir);
  } catch (const BankError& e) {
    return e.what();
  }
  return "loaded";
}

// A copy of the tiny lab with item.json's fix changed by `edit`.
fs::path copy_lab(const TempDir& tmp, const std::function<void(json& fix)>& edit) {
  fs::path dir = tmp / "concurrency" / "01-tiny-lab";
  fs::remove_all(dir);
  fs::create_directories(dir.parent_path());
  fs::copy(kLab, dir, fs::copy_options::recursive);
  json j = json::parse(std::ifstream(dir / "item.json"));
  edit(j["fix"]);
  write(dir / "item.json", j.dump(2));
  return dir;
}

TEST(LabSpec, ParsesTheLabSection) {
  Item it = load_item(kLab);
  ASSERT_TRUE(it.fix && it.fix->lab);
  const LabSpec& l = *it.fix->lab;
  EXPECT_EQ(l.path, "/work");
  EXPECT_EQ(l.rate, 50);
  EXPECT_EQ(l.duration_s, 3);
  EXPECT_EQ(l.latency_p99_ms, 2000);
  EXPECT_EQ(l.shutdown_s, 5);
  EXPECT_EQ(l.shutdown_requests, 3);
  EXPECT_EQ(l.threshold, 5000);  // the seed's bound, by default
  EXPECT_FALSE(l.max_gcs);
  EXPECT_TRUE(l.facts.empty());
  ASSERT_EQ(it.fix->wrong.size(), 2u);
  EXPECT_EQ(it.fix->wrong[0].fails, "lab");
  EXPECT_EQ(it.fix->wrong[0].shows, "leak: goroutines grew");
}

TEST(LabSpec, RejectsMalformedLabs) {
  TempDir tmp{"assess-lab-test"};
  auto rejects = [&](const std::function<void(json&)>& edit) { return load_error(copy_lab(tmp, edit)); };
  EXPECT_THAT(rejects([](json& f) { f["package"] = "item"; }),
              HasSubstr("fix.lab: a lab's service is a program: fix.package must be \"main\""));
  EXPECT_THAT(rejects([](json& f) { f["lab"]["rate"] = 0; }), HasSubstr("fix.lab.rate: must be a number from 1 to 2000"));
  EXPECT_THAT(rejects([](json& f) { f["lab"]["path"] = "work"; }), HasSubstr("fix.lab.path: must be a URL path"));
  EXPECT_THAT(rejects([](json& f) { f["lab"]["faults"] = "reset=1% --exec x"; }), HasSubstr("fix.lab.faults:"));
  EXPECT_THAT(rejects([](json& f) { f["lab"]["color"] = 1; }), HasSubstr("fix.lab.color: unknown field"));
  EXPECT_THAT(rejects([](json& f) { f["lab"]["env"] = {{"GOPATH", "/x"}}; }), HasSubstr("fix.lab.env.GOPATH: the grader sets it"));
  EXPECT_THAT(rejects([](json& f) { f["lab"]["facts"] = json::array({{{"check", "speed"}, {"fact", "x"}, {"max", 1}, {"says", "s"}}}); }),
              HasSubstr("fix.lab.facts[0].check: \"speed\" is not one of leak | latency | shutdown | heap | consistency"));
  EXPECT_THAT(rejects([](json& f) { f["lab"]["facts"] = json::array({{{"check", "leak"}, {"fact", "x"}, {"says", "s"}}}); }),
              HasSubstr("fix.lab.facts[0]: needs min or max"));
  // "lab" verdicts need the section; a lab needs a wrong solution that fails at it.
  EXPECT_THAT(rejects([](json& f) { f.erase("lab"); }), HasSubstr("fails: \"lab\" needs the item's fix.lab section"));
  fs::path dir = copy_lab(tmp, [](json&) {});
  for (const char* w : {"leaky", "no-graceful-shutdown"})
    write(dir / "wrong" / w / "expect.json", R"({"fails": "test", "why": "x"})");
  EXPECT_THAT(load_error(dir), HasSubstr("fix.lab: a lab needs a known-wrong solution that fails at \"lab\""));
}

// The judge on evidence made up to the formats gocxx-pressure, the driver and Go write.
TEST(LabJudge, ChecksTheEvidenceAgainstTheLabsBounds) {
  LabSpec spec;
  spec.latency_p99_ms = 100;
  spec.max_gcs = 3;
  spec.facts = {{"consistency", "total", 1000, 1000, "money was created or lost"},
                {"leak", "upstream_in_flight", std::nullopt, 0, "upstream calls still running"}};
  lab::Evidence ev;
  ev.driver = json::parse(R"({"startup": {"ok": true, "ms": 100}, "load_start_ms": 500, "pressure_exit": 0,
      "facts": {"total": 990, "upstream_in_flight": 0},
      "shutdown": {"ran": true, "requests": 4, "ok": 4, "errors": [], "exit": "exited with status 0", "exit_code": 0, "ms": 800}})");
  ev.samples_csv = "seconds,goroutines,scheduled,ok,failed,in_flight\n0.001,7,0,0,0,0\n0.5,30,25,24,0,1\n3.0,9,100,99,1,0\n";
  ev.latency_csv = "lowest_ns,highest_ns,count,cumulative_percent\n1000000,1000000,50,50.0000\n2000000,2000000,49,99.0000\n"
                   "300000000,300000000,1,100.0000\n";
  ev.service_log = "listening\ngc 1 @0.512s 2%: 0.01+0.4+0.003 ms clock, 0.04+0.1/0.3/0.4+0.01 ms cpu, 4->5->1 MB, 5 MB goal, 0 MB stacks, 0 MB globals, 2 P\n"
                   "gc 2 @1.700s 2%: 0.01+0.4+0.003 ms clock, 0.04+0.1/0.3/0.4+0.01 ms cpu, 6->7->2 MB, 8 MB goal, 0 MB stacks, 0 MB globals, 2 P\n";
  ev.faults = "10% jitter";
  lab::Outcome o = lab::judge(spec, ev);
  EXPECT_EQ(o.verdict, "lab");
  EXPECT_THAT(o.message, HasSubstr("consistency: money was created or lost: total = 990 (should be 1000)"));
  const json& l = o.lab;
  EXPECT_EQ(l["passed"], false);
  std::vector<std::string> names;
  for (const json& c : l["checks"]) names.push_back(c["name"]);
  EXPECT_EQ(names, (std::vector<std::string>{"leak", "latency", "shutdown", "heap", "consistency"}));
  EXPECT_EQ(l["checks"][0]["passed"], true) << l["checks"][0];
  EXPECT_THAT(l["checks"][0]["detail"].get<std::string>(), HasSubstr("goroutines 7 before the load, peak 30, 9 after it"));
  EXPECT_EQ(l["checks"][1]["passed"], true) << l["checks"][1];  // p99 2 ms, 1% failed
  EXPECT_EQ(l["checks"][2]["passed"], true) << l["checks"][2];
  EXPECT_EQ(l["checks"][3]["passed"], true) << l["checks"][3];  // 2 cycles, at most 3
  EXPECT_EQ(l["goroutines"], json::parse("[[1,7],[500,30],[3000,9]]"));
  EXPECT_EQ(l["heap_mb"], json::parse("[[12,4.0],[1200,6.0]]"));  // the service's clock made the load's
  EXPECT_EQ(l["latency_ms"], json::parse(R"({"p50": 1.0, "p90": 2.0, "p99": 2.0, "max": 300.0, "bound_p99": 100})"));
  EXPECT_EQ(l["requests"], json::parse(R"({"sent": 100, "ok": 99, "failed": 1})"));

  // Every bound crossed at once.
  spec.max_gcs = 1;
  spec.latency_p99_ms = 1;
  ev.driver["facts"] = {{"total", 1000}, {"upstream_in_flight", 3}};
  ev.driver["pressure_exit"] = 1;
  ev.driver["pressure_verdict"] = "leak suspected: growth: ...";
  ev.driver["shutdown"]["ok"] = 1;
  ev.driver["shutdown"]["errors"] = {"EOF"};
  ev.samples_csv += "5.0,200,100,99,1,0\n";
  o = lab::judge(spec, ev);
  EXPECT_THAT(o.message, HasSubstr("leak: upstream calls still running: upstream_in_flight = 3 (should be at most 0)"));
  EXPECT_THAT(o.message, HasSubstr("gocxx-pressure: leak suspected: growth"));
  EXPECT_THAT(o.message, HasSubstr("goroutines grew 7 → 200 and stayed after the load"));
  EXPECT_THAT(o.message, HasSubstr("latency: p99 2.0 ms is over the bound"));
  EXPECT_THAT(o.message, HasSubstr("shutdown: 3 in-flight requests were cut off (EOF)"));
  EXPECT_THAT(o.message, HasSubstr("heap: 2 GC cycles, more than 1"));
  EXPECT_THAT(o.message, Not(HasSubstr("consistency")));

  // A service that never answered: one check, "service", and the schema's empty figures.
  ev.driver = {{"startup", {{"ok", false}, {"error", "the service exited with status 2 before it answered"}}}};
  o = lab::judge(spec, ev);
  EXPECT_EQ(o.verdict, "lab");
  EXPECT_THAT(o.message, HasSubstr("service: the service did not start: the service exited with status 2"));
  EXPECT_EQ(o.lab["checks"].size(), 1u);
  EXPECT_TRUE(o.lab["goroutines"].empty());
  // gocxx-pressure's own failure (bad usage) is the grader's, not the candidate's.
  ev.driver = {{"startup", {{"ok", true}}}, {"pressure_exit", 2}};
  EXPECT_EQ(lab::judge(spec, ev).verdict, "error");
}

// Processes whose command line mentions `dir`: what a lab might leave behind.
std::vector<std::string> processes_under(const fs::path& dir) {
  std::vector<std::string> found;
  for (const auto& e : fs::directory_iterator("/proc")) {
    std::ifstream in(e.path() / "cmdline", std::ios::binary);
    std::string cmd((std::istreambuf_iterator<char>(in)), {});
    std::replace(cmd.begin(), cmd.end(), '\0', ' ');
    if (cmd.find(dir.string()) != std::string::npos) found.push_back(e.path().filename().string() + ": " + cmd);
  }
  return found;
}

class LabGo : public ::testing::Test {
 protected:
  TempDir tmp{"assess-lab-test"};
  Grader grader{{.scratch_base = tmp / "scratch", .cache = GoCache::shared, .gocache = ASSESS_TEST_GOCACHE}};
  Item lab = load_item(kLab);
  Files files(const char* solution) {
    Files f = read_files(kLab / solution);
    f.erase("expect.json");
    return f;
  }
  json grade(Files f, Pressure p = {}) {
    json r;
    gocxx::run([&] { r = grader.grade(lab, Answer{.files = std::move(f)}, p); });
    EXPECT_THAT(processes_under(tmp / "scratch"), ::testing::IsEmpty());
    return r;
  }
  // The schema the dashboard renders (issue 15's assess.lab).
  static void expect_schema(const json& l) {
    ASSERT_TRUE(l.is_object());
    EXPECT_TRUE(l["passed"].is_boolean());
    ASSERT_TRUE(l["checks"].is_array());
    for (const json& c : l["checks"]) {
      EXPECT_TRUE(c["name"].is_string());
      EXPECT_TRUE(c["passed"].is_boolean());
      EXPECT_TRUE(c["detail"].is_string());
    }
    for (const char* series : {"goroutines", "heap_mb"}) {
      ASSERT_TRUE(l[series].is_array()) << series;
      for (const json& p : l[series]) EXPECT_TRUE(p.is_array() && p.size() == 2 && p[0].is_number() && p[1].is_number());
    }
    for (const char* k : {"p50", "p90", "p99", "max", "bound_p99"}) EXPECT_TRUE(l["latency_ms"][k].is_number()) << k;
    for (const char* k : {"sent", "ok", "failed"}) EXPECT_TRUE(l["requests"][k].is_number_integer()) << k;
    EXPECT_TRUE(l["faults"].is_string());
    EXPECT_TRUE(l["report"].is_string());
  }
};

TEST_F(LabGo, TheReferencePassesTheLabUnderFaults) {
  json r = grade(files("solution"), {.on = true});
  ASSERT_EQ(r["status"], "pass") << r.dump(2);
  EXPECT_EQ(r["tests"].back(), (json{{"name", "lab"}, {"status", "pass"}}));
  const json& l = r["assess"]["lab"];
  expect_schema(l);
  EXPECT_EQ(l["passed"], true);
  std::vector<std::string> names;
  for (const json& c : l["checks"]) names.push_back(c["name"]);
  EXPECT_EQ(names, (std::vector<std::string>{"leak", "latency", "shutdown"}));
  EXPECT_THAT(l["checks"][2]["detail"].get<std::string>(), HasSubstr("3 of 3 requests in flight at SIGTERM answered; exited with status 0"));
  EXPECT_EQ(l["requests"]["sent"], 150);  // 50/s for 3 s
  EXPECT_EQ(l["requests"]["ok"], 150);
  EXPECT_GE(l["latency_ms"]["p50"].get<double>(), 9.0);  // every request pays the proxy's ~10 ms
  EXPECT_GE(l["goroutines"].size(), 6u);                  // every 500 ms for 5 s
  EXPECT_THAT(l["faults"].get<std::string>(), HasSubstr("10% jitter on a 10 ms latency of the proxied reads (seed 1)"));
  EXPECT_THAT(l["report"].get<std::string>(), HasSubstr("## Verdict"));
  EXPECT_THAT(l["report"].get<std::string>(), HasSubstr("clean: no leak episode"));
}

TEST_F(LabGo, ALeakPassesTheTestsAndFailsAtTheLabWithEvidence) {
  // Outside pressure mode too: a lab's behaviour is its point.
  json r = grade(files("wrong/leaky"));
  ASSERT_EQ(r["status"], "fail") << r.dump(2);
  EXPECT_EQ(r["assess"]["verdict"], "lab");
  EXPECT_THAT(r["message"].get<std::string>(), HasSubstr("fails at lab: leak: goroutines grew"));
  EXPECT_EQ(r["tests"][1], (json{{"name", "vet"}, {"status", "pass"}}));
  EXPECT_EQ(r["tests"].back()["name"], "lab");
  EXPECT_EQ(r["tests"].back()["status"], "fail");
  const json& l = r["assess"]["lab"];
  expect_schema(l);
  EXPECT_EQ(l["passed"], false);
  EXPECT_EQ(l["checks"][0]["name"], "leak");
  EXPECT_EQ(l["checks"][0]["passed"], false);
  EXPECT_EQ(l["checks"][2]["passed"], true);  // it does shut down gracefully
  ASSERT_FALSE(l["goroutines"].empty());
  EXPECT_GE(l["goroutines"].back()[1].get<int>(), 100);  // ~150 senders blocked for good
  EXPECT_THAT(l["report"].get<std::string>(), HasSubstr("main.work"));  // the leak analysis names the site
}

TEST_F(LabGo, NoGracefulShutdownFailsTheShutdownCheck) {
  json r = grade(files("wrong/no-graceful-shutdown"), {.on = true});
  ASSERT_EQ(r["assess"]["verdict"], "lab") << r.dump(2);
  EXPECT_THAT(r["message"].get<std::string>(), HasSubstr("shutdown: "));
  EXPECT_THAT(r["message"].get<std::string>(), HasSubstr("killed by signal terminated"));
  EXPECT_EQ(r["assess"]["lab"]["checks"][0]["passed"], true);
}

TEST_F(LabGo, ServicesThatNeverListenCrashOrIgnoreSigtermFailClearly) {
  const std::string work = R"(
func work(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) }
)";
  json never = grade({{"main.go", "package main\n\nimport (\n\t\"net/http\"\n\t\"time\"\n)\n" + work +
                                   "\nfunc main() { time.Sleep(time.Hour) }\n"}});
  EXPECT_EQ(never["assess"]["verdict"], "lab") << never.dump(2);
  EXPECT_THAT(never["message"].get<std::string>(), HasSubstr("service: the service did not start: the service did not answer within 10s"));

  json crash = grade({{"main.go", "package main\n\nimport \"net/http\"\n" + work + "\nfunc main() { panic(\"no config\") }\n"}});
  EXPECT_EQ(crash["assess"]["verdict"], "lab") << crash.dump(2);
  EXPECT_THAT(crash["message"].get<std::string>(), HasSubstr("the service exited with status 2 before it answered"));
  EXPECT_THAT(crash["message"].get<std::string>(), HasSubstr("panic: no config"));  // its log
  EXPECT_THAT(crash["message"].get<std::string>(), HasSubstr("/item/main.go:"));    // paths rewritten
  EXPECT_THAT(crash.dump(), Not(HasSubstr(tmp.path().string())));

  json deaf = grade({{"main.go", R"(package main

import (
	"net/http"
	"os/signal"
	"syscall"

	"assess/lab"
)
)" + work + R"(
func main() {
	signal.Ignore(syscall.SIGTERM)
	mux := http.NewServeMux()
	mux.HandleFunc("/work", work)
	http.ListenAndServe(lab.Addr(), lab.Handler(mux, nil))
}
)"}});
  EXPECT_EQ(deaf["assess"]["verdict"], "lab") << deaf.dump(2);
  EXPECT_THAT(deaf["message"].get<std::string>(), HasSubstr("shutdown: it must exit with status 0 within 5 s of SIGTERM"));
  EXPECT_THAT(deaf["message"].get<std::string>(), HasSubstr("still running 5s after SIGTERM: killed"));
}

}  // namespace

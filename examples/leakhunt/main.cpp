// The leak hunt: a small service with the three classic goroutine leaks, and every tool gocxx
// has for finding them — the leak watchdog, the leak check, the goroutine dump, a pprof
// goroutine profile, an execution trace — then the fixed service, checked clean.
//
//   leakhunt [output-dir]      (default: ./leakhunt-out)
#include <gocxx/debug.hpp>
#include <gocxx/gocxx.hpp>
#include <gocxx/leakcheck.hpp>
#include <gocxx/trace.hpp>
#include <gocxx/watchdog.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <memory>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace service {

bool g_fixed = false;  // false: the leaky service; true: the same code with the three fixes

[[gnu::noinline]] int backend_lookup(int query) {
  gocxx::time::sleep(2ms);  // slower than the caller is willing to wait
  return query * 7;
}

// Leak 1, "the abandoned sender": the caller gives up after a timeout; the worker's send on an
// unbuffered channel then waits for a receiver that is gone. Fix: a buffer of one.
[[gnu::noinline]] int query_with_timeout(int query) {
  gocxx::Chan<int> result = g_fixed ? gocxx::Chan<int>(1) : gocxx::Chan<int>();
  gocxx::go([result, query]() mutable {
    int answer = backend_lookup(query);
    result.send(answer);
    gocxx::yield();
  });
  int answer = -1;
  gocxx::select(gocxx::recv_case(result, [&](std::optional<int> v) { answer = v.value_or(-1); }),
                gocxx::recv_case(gocxx::time::after(1ms), [](auto) {}));
  return answer;
}

// Leak 2, "the forgotten Done": a fan-out whose error path returns without wg.done(), so the
// aggregator waits forever. Fix: done() on every path (a Defer does it).
[[gnu::noinline]] void fan_out(int request) {
  auto wg = std::make_shared<gocxx::sync::WaitGroup>();
  wg->add(2);
  gocxx::go([wg] { wg->done(); });
  gocxx::go([wg, request] {
    gocxx::func([&](gocxx::Defer& defer) {
      if (g_fixed) defer([wg] { wg->done(); });
      if (request % 2 == 0) return;  // the error path
      if (!g_fixed) wg->done();
    });
  });
  gocxx::go([wg] {
    wg->wait();
    gocxx::yield();  // publish the aggregate
  });
}

// Leak 3, "the captured loop variable": each notification goroutine reads `next` when it runs,
// not when it was started, so most of them pick the same inbox and block sending, while the
// other subscribers wait forever. Fix: capture the value.
struct Notifier {
  static constexpr int kSubscribers = 4;
  std::vector<gocxx::Chan<int>> inbox{kSubscribers};
  int next = 0;

  [[gnu::noinline]] void notify_all() {
    for (int k = 0; k < kSubscribers; ++k) {
      gocxx::go([box = inbox[k]]() mutable {
        box.recv();
        gocxx::yield();
      });
    }
    for (next = 0; next < kSubscribers; ++next) {
      if (g_fixed) {
        gocxx::go([this, k = next] { deliver(k); });
      } else {
        // NOLINTNEXTLINE(gocxx-go-capture-ref): leak 3 itself, kept for the hunt
        gocxx::go([this] { deliver(next % kSubscribers); });
      }
    }
  }
  [[gnu::noinline]] void deliver(int k) {
    inbox[k].send(1);
    gocxx::yield();
  }
};

// One "request" exercises all three code paths.
void handle_request(int request, std::vector<std::unique_ptr<Notifier>>& notifiers) {
  query_with_timeout(request);
  fan_out(request);
  notifiers.push_back(std::make_unique<Notifier>());  // lives as long as the process
  notifiers.back()->notify_all();
}

}  // namespace service

namespace {

void print_file_head(const std::filesystem::path& path, int lines) {
  std::ifstream in(path);
  std::string line;
  for (int i = 0; i < lines && std::getline(in, line); ++i) std::cout << "    " << line << "\n";
}

// Leaks grouped by where they were created and what they wait for: the first thing to read.
void summarize(const std::vector<gocxx::leakcheck::Leak>& leaks) {
  std::map<std::pair<std::string, std::string>, int> sites;
  for (const auto& g : leaks) ++sites[{g.created_by.function, g.status()}];
  std::printf("  %6s  %-22s  %s\n", "count", "waiting in", "created by");
  for (const auto& [site, count] : sites) {
    std::printf("  %6d  %-22s  %s\n", count, site.second.c_str(), site.first.c_str());
  }
}

int serve(int requests, std::vector<std::unique_ptr<service::Notifier>>& notifiers) {
  for (int r = 0; r < requests; ++r) {
    service::handle_request(r, notifiers);
    if (r % 50 == 0) gocxx::time::sleep(5ms);  // requests arrive over time
  }
  gocxx::time::sleep(50ms);  // let the in-flight work finish (or get stuck)
  return gocxx::num_goroutine() - 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::filesystem::path out = argc > 1 ? argv[1] : "leakhunt-out";
  std::filesystem::create_directories(out);
  const auto watchdog_report = out / "watchdog-report.txt";
  const auto dump_path = out / "goroutines.txt";
  const auto profile_path = out / "goroutine.pb.gz";
  const auto trace_path = out / "trace.json";
  std::filesystem::remove(watchdog_report);

  return gocxx::run([&] {
    std::vector<std::unique_ptr<service::Notifier>> notifiers;
    std::printf("== 1. The leaky service: 400 requests, watchdog on (threshold 1000 goroutines)\n");
    gocxx::debug::LeakWatchdog watchdog(gocxx::debug::WatchdogOptions{
        .threshold = 1000, .interval = 50ms, .report_path = watchdog_report.string()});
    gocxx::trace::start(trace_path.string());
    int alive = serve(400, notifiers);
    gocxx::trace::stop();
    for (int i = 0; i < 200 && watchdog.stats().reports == 0; ++i) gocxx::time::sleep(10ms);
    watchdog.stop();
    auto stats = watchdog.stats();
    std::printf("   %d goroutines still alive after the requests finished\n", alive);
    std::printf("   watchdog: %llu samples, peak %d, %llu report(s) -> %s\n",
                static_cast<unsigned long long>(stats.samples), stats.peak,
                static_cast<unsigned long long>(stats.reports), watchdog_report.c_str());
    std::printf("   first lines of the report:\n");
    print_file_head(watchdog_report, 18);

    std::printf("\n== 2. The leak check (what a test would run: gocxx::leakcheck::find)\n");
    auto leaks = gocxx::leakcheck::find();
    std::printf("   %zu leaked goroutines:\n", leaks.size());
    summarize(leaks);
    std::printf("   one of them, in Go's traceback format:\n");
    for (const auto& g : leaks) {
      if (g.status() == "chan send") {
        std::ostringstream one;
        gocxx::debug::write_goroutine(one, g);
        std::istringstream lines(one.str());
        for (std::string line; std::getline(lines, line);) std::cout << "    " << line << "\n";
        break;
      }
    }

    std::printf("== 3. Files for the standard tools\n");
    {
      std::ofstream dump(dump_path);
      gocxx::debug::write_goroutines(dump, 2);
      std::ofstream profile(profile_path, std::ios::binary);
      gocxx::debug::write_goroutine_profile(profile);
    }
    std::printf("   %-44s all goroutines, Go's debug=2 text (also: kill -QUIT <pid>)\n",
                dump_path.c_str());
    std::printf("   %-44s go tool pprof -top %s\n", profile_path.c_str(), profile_path.c_str());
    std::printf("   %-44s %s\n", "", "go tool pprof -traces / -tagfocus=state=chan");
    std::printf("   %-44s open in https://ui.perfetto.dev (Open trace file)\n", trace_path.c_str());
    std::printf("   %-44s gdb -iex 'add-auto-load-safe-path .' ./leakhunt core -> "
                "info goroutines, goroutine N bt\n",
                "(any core or live process)");

    std::printf("\n== 4. The fixed service: same 400 requests\n");
    auto before = gocxx::leakcheck::Options{}.ignore_current();
    service::g_fixed = true;
    serve(400, notifiers);
    auto after = gocxx::leakcheck::check(before);
    std::printf("   leak check: %zu new leaked goroutines%s\n", after.size(),
                after.empty() ? " - clean" : "");
    if (!after.empty()) {
      summarize(after);
      std::exit(1);
    }
  });
}

#include <gocxx/gocxx.hpp>
#include <cstdio>
int main() {
  return gocxx::run([] {
    gocxx::Chan<int> jobs(100), results;
    gocxx::sync::WaitGroup wg;
    for (int w = 0; w < 8; ++w) { wg.add(1); gocxx::go([&] { for (int j : jobs) results.send(j * 2); wg.done(); }); }
    gocxx::go([&] { for (int i = 0; i < 1000; ++i) jobs.send(i); jobs.close(); });
    gocxx::go([&] { wg.wait(); results.close(); });
    long sum = 0; for (int r : results) sum += r;
    std::printf("sum=%ld\n", sum);
    gocxx::select(gocxx::recv_case(results, [](std::optional<int>) {}), gocxx::default_case([] {}));
  });
}

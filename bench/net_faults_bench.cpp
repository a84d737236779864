// What fault injection costs gocxx::net's I/O path (Google Benchmark):
//   BM_WriteRead/off     no faults: read and write pay one predictable branch
//   BM_WriteRead/armed   faults on the connection that never fire (reset=1e-12): every read
//                        and write goes through the faulted path and draws, injecting nothing
// One goroutine writes N bytes on one end of a loopback TCP connection and reads them on the
// other. The data is always there when read, so nothing parks: the time is two system calls
// plus gocxx's own work, which is where a branch or a draw would show.
#include <gocxx/gocxx.hpp>
#include <gocxx/net.hpp>

#include <benchmark/benchmark.h>

#include <optional>
#include <string>
#include <vector>

namespace {

namespace net = gocxx::net;

void write_read(benchmark::State& state, std::optional<net::Faults> faults) {
  gocxx::run([&] {
    auto [ln, err] = net::listen("tcp", "127.0.0.1:0");
    if (err) return state.SkipWithError(err.message().c_str());
    if (faults) ln.set_faults(*faults);
    auto [client, dial_err] = net::Dialer{.faults = faults}.dial("tcp", ln.addr().string());
    auto [server, accept_err] = ln.accept();
    if (dial_err || accept_err) return state.SkipWithError("connect failed");
    std::string out(static_cast<std::size_t>(state.range(0)), 'x');
    std::vector<char> in(out.size());
    for (auto _ : state) {
      if (client.write(out).err) return state.SkipWithError("write failed");
      for (std::size_t got = 0; got < in.size();) {
        auto [n, read_err] = server.read(std::span(in).subspan(got));
        if (read_err) return state.SkipWithError("read failed");
        got += n;
      }
    }
    state.SetBytesProcessed(state.iterations() * state.range(0));
    (void)client.close();
    (void)server.close();
    (void)ln.close();
  });
}

void BM_WriteRead_off(benchmark::State& state) { write_read(state, std::nullopt); }
void BM_WriteRead_armed(benchmark::State& state) {
  write_read(state, net::Faults{.reset = 1e-12, .seed = 1});
}

BENCHMARK(BM_WriteRead_off)->Arg(64)->Arg(4096)->UseRealTime();
BENCHMARK(BM_WriteRead_armed)->Arg(64)->Arg(4096)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();

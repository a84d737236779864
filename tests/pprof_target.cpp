// The program tests/pprof/check.sh profiles with `go tool pprof`. The main goroutine starts
//   3  blocked sending on an unbuffered channel   (pprof_target::send_forever, which inlines
//                                                  pprof_target::send_value)
//   2  blocked in WaitGroup::wait                 (pprof_target::wait_forever)
// waits until each has parked, then writes the goroutine profile twice:
//   pprof_target GZ_PATH RAW_PATH   -> gzipped (the default) to GZ_PATH, uncompressed to RAW_PATH.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <gocxx/debug.hpp>
#include <gocxx/gocxx.hpp>
#include <string>

using namespace std::chrono_literals;

namespace pprof_target {

// Inlined into send_forever: its Location has two Lines, shown by pprof as "(inline)".
[[gnu::always_inline]] inline void send_value(gocxx::Chan<int>& ch) {
  ch.send(42);
  asm volatile("");  // keeps the frames: no tail call
}

[[gnu::noinline]] void send_forever(gocxx::Chan<int> ch) {
  send_value(ch);
  asm volatile("");
}

[[gnu::noinline]] void wait_forever(gocxx::sync::WaitGroup* wg) {
  wg->wait();
  asm volatile("");
}

int count_parked(const char* reason) {
  int n = 0;
  for (const auto& g : gocxx::debug::goroutines()) n += g.wait_reason == reason;
  return n;
}

void write(const char* path, bool gzip) {
  std::ofstream out(path, std::ios::binary);
  if (!out) {
    std::fprintf(stderr, "pprof_target: cannot open %s\n", path);
    std::exit(1);
  }
  gocxx::debug::write_goroutine_profile(out, gzip);
}

int main_goroutine(const char* gz_path, const char* raw_path) {
  gocxx::Chan<int> ch;  // unbuffered, never received from
  gocxx::sync::WaitGroup wg;
  wg.add(1);  // never done
  for (int i = 0; i < 3; ++i) gocxx::go(send_forever, ch);
  for (int i = 0; i < 2; ++i) gocxx::go(wait_forever, &wg);
  auto deadline = std::chrono::steady_clock::now() + 120s;  // a stuck runtime, not a slow one
  while (count_parked("chan send") != 3 || count_parked("sync.WaitGroup.Wait") != 2) {
    if (std::chrono::steady_clock::now() > deadline) {
      std::fprintf(stderr, "pprof_target: goroutines did not park\n");
      std::abort();
    }
    gocxx::time::sleep(1ms);
  }
  write(gz_path, true);
  write(raw_path, false);
  std::printf("pprof_target: wrote %s and %s\n", gz_path, raw_path);
  return 0;
}

}  // namespace pprof_target

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s GZ_PATH RAW_PATH\n", argv[0]);
    return 2;
  }
  return gocxx::run([&] { return pprof_target::main_goroutine(argv[1], argv[2]); });
}

// The gocxx side of bench/compare_net: a plain TCP echo server on gocxx::net, one goroutine per
// connection (the same program as bench/go/netbench/server).
//
//   net_server [addr]        default 127.0.0.1:0
//
// Prints "LISTEN <addr>" on stdout once listening. Each connection reads into a 4 KiB buffer
// on its goroutine's stack and writes back what it read (the client frames messages by size).
// Raises RLIMIT_NOFILE to the hard limit at start. GOCXX_MAXPROCS sets the number of Ps, as
// for every gocxx program. Exits 0 on SIGTERM or SIGINT (a plain thread waits for them);
// accept errors and connection errors other than EOF are counted and reported on stderr.
// (gocxx::net sets TCP_NODELAY on every TCP connection, as Go does: net_test checks it.)
#include <gocxx/gocxx.hpp>
#include <gocxx/net.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>
#include <thread>

namespace {

std::atomic<long> conn_errors{0}, accept_errors{0}, accepted{0};
std::atomic<bool> nodelay_warned{false};

void raise_nofile() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
  rlimit want = lim;
  if (want.rlim_max != RLIM_INFINITY && want.rlim_max < (rlim_t{1} << 20)) want.rlim_max = 1 << 20;
  want.rlim_cur = want.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &want) != 0) {  // not allowed to raise the hard limit
    lim.rlim_cur = lim.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &lim) != 0) std::perror("net_server: setrlimit");
  }
}

void note(std::atomic<long>& counter, const char* what, const gocxx::error& err) {
  if (counter.fetch_add(1, std::memory_order_relaxed) < 5) {
    std::fprintf(stderr, "net_server: %s: %s\n", what, err.message().c_str());
  }
}

void serve(gocxx::net::Conn c) {
  char buf[4096];
  for (;;) {
    auto [n, err] = c.read(buf);
    if (err) {
      if (!gocxx::errors::is(err, gocxx::io::eof)) note(conn_errors, "read", err);
      break;
    }
    if (auto w = c.write(std::string_view(buf, n)); w.err) {
      note(conn_errors, "write", w.err);
      break;
    }
  }
  (void)c.close();
}

}  // namespace

int main(int argc, char** argv) {
  std::string addr = argc > 1 ? argv[1] : "127.0.0.1:0";
  raise_nofile();

  // SIGTERM/SIGINT: blocked here, so every runtime thread inherits the mask, and taken by a
  // plain thread that reports and exits.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  std::thread([sigs] {
    int sig = 0;
    sigwait(&sigs, &sig);
    long n = conn_errors.load(), a = accept_errors.load();
    if (n != 0 || a != 0) {
      std::fprintf(stderr, "net_server: %ld connection errors, %ld accept errors (%ld accepted)\n",
                   n, a, accepted.load());
    }
    std::fflush(stderr);
    _exit(0);
  }).detach();

  return gocxx::run([&]() -> int {
    auto [ln, err] = gocxx::net::listen("tcp", addr);
    if (err) {
      std::fprintf(stderr, "net_server: %s\n", err.message().c_str());
      return 1;
    }
    std::printf("LISTEN %s\n", ln.addr().string().c_str());
    std::fflush(stdout);
    for (;;) {
      auto [conn, aerr] = ln.accept();
      if (aerr) {
        if (gocxx::errors::is(aerr, gocxx::net::err_closed)) return 0;
        note(accept_errors, "accept", aerr);
        gocxx::time::sleep(std::chrono::milliseconds(5));  // EMFILE and the like: back off
        continue;
      }
      accepted.fetch_add(1, std::memory_order_relaxed);
      gocxx::go(serve, std::move(conn));
    }
  });
}

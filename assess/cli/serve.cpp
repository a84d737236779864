// `assess serve`: loads the bank and its rules, opens the store, prints the interviewer's login
// URL (a new token on first start or with --new-token; only its hash is kept), and serves until
// SIGINT/SIGTERM, then shuts down: the listener closes, event streams end, gradings in flight
// finish (up to 10 minutes: a fix item's checks), then the process exits.
#include "serve.hpp"

#include <csignal>
#include <iostream>
#include <stdexcept>
#include <thread>

#include <gocxx/chan.hpp>
#include <gocxx/context.hpp>
#include <gocxx/http.hpp>
#include <gocxx/net.hpp>
#include <gocxx/runtime.hpp>

#include "engine/cat.hpp"
#include "take.hpp"
#include "web/app.hpp"

namespace assess::cli {

namespace {

using namespace std::chrono_literals;
namespace http = gocxx::http;

bool loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.starts_with("127.");
}

std::string host_of(const std::string& listen) {
  std::size_t colon = listen.rfind(':');
  if (colon == std::string::npos) throw std::invalid_argument("--listen needs host:port, not \"" + listen + "\"");
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  return host;
}

}  // namespace

int serve(const ServeOptions& o) {
  std::string host = host_of(o.listen);
  if (!loopback(host) && !o.public_bind)
    throw std::invalid_argument("--listen " + o.listen + " is not a loopback address: add --public to serve it");
  Bank bank = load_bank(o.bank);
  for (const BankError& e : bank.errors) std::cerr << "assess: " << e.what() << "\n";
  rules::RuleSet rules = rules::RuleSet::load(o.bank / "rules.json");
  if (std::vector<std::string> problems = cat::check_rules(rules, bank); !problems.empty())
    throw std::invalid_argument((o.bank / "rules.json").string() + " does not fit the bank: " + problems.front());
  auto store = open_sqlite_store(o.db);
  Grader grader = candidate_grader(o.cache);

  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);  // every thread; one waits for them below

  int status = 0;
  gocxx::Options run_options;
  run_options.stack_size = 8u << 20;  // evidence regexes recurse per character (as bank check)
  gocxx::run([&] {
    web::App app({bank, rules, grader, *store});
    auto [ln, err] = gocxx::net::listen("tcp", o.listen);
    if (err) {
      std::cerr << "assess serve: " << err.message() << "\n";
      status = 1;
      return;
    }
    std::string base = "http://" + ln.addr().string();
    if (std::optional<std::string> token = app.ensure_interviewer_token(o.new_token))
      std::cout << "interviewer login (shown once; `assess serve --new-token` makes a new one):\n  " << base
                << "/login?token=" << *token << "\n";
    else
      std::cout << "interviewer login: " << base << "/login (the token printed at the first start)\n";
    std::cout << "serving on " << base << std::endl;

    http::Server srv;
    srv.handler = app.handler();
    srv.read_header_timeout = 10s;
    srv.idle_timeout = 120s;
    gocxx::Chan<gocxx::error> served(1);
    // NOLINTNEXTLINE(gocxx-go-capture-ref): joined below (served.recv())
    gocxx::go([&, ln = std::move(ln)]() mutable { served.send(srv.serve(std::move(ln))); });
    gocxx::Chan<int> stop(1);
    std::thread([stop, &stop_signals]() mutable {
      int sig = 0;
      sigwait(&stop_signals, &sig);
      stop.send(sig);
    }).detach();
    bool failed = false;
    gocxx::select(gocxx::recv_case(stop, [](auto) {}), gocxx::recv_case(served, [&](auto e) {
                    std::cerr << "assess serve: " << e->message() << "\n";
                    failed = true;
                  }));
    if (failed) {
      status = 1;
      return;
    }
    std::cout << "shutting down: waiting for gradings in progress" << std::endl;
    // Not register_on_shutdown: Go runs those in a goroutine of their own, which could outlive app.
    app.close();
    auto [ctx, cancel] = gocxx::context::with_timeout(gocxx::context::background(), 600s);
    if (auto e = srv.shutdown(ctx)) std::cerr << "assess serve: shutdown: " << e.message() << "\n";
    (void)served.recv();
  }, run_options);
  return status;
}

}  // namespace assess::cli

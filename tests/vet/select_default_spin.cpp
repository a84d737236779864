// gocxx-select-default-spin: golden input.
#include <gocxx/gocxx.hpp>

#include <atomic>

using namespace std::chrono_literals;

// for {} with a select that has a default: spins while nothing is ready.
void bad_forever(gocxx::Chan<int> jobs) {
  for (;;) {
    gocxx::select(gocxx::recv_case(jobs, [](std::optional<int>) {}), gocxx::default_case());
  }
}

// Polling a flag that another goroutine sets; the default case even starts a goroutine.
void bad_polling(gocxx::Chan<int> jobs, const std::atomic<bool>& stop) {
  while (!stop) {
    gocxx::select(gocxx::recv_case(jobs, [](std::optional<int>) {}),
                  gocxx::default_case([] { gocxx::go([] {}); }));
  }
}

// A receive case that ends the loop does not help while nothing arrives.
void bad_until_received(gocxx::Chan<int> done) {
  bool got = false;
  while (!got) {
    gocxx::select(gocxx::recv_case(done, [&](std::optional<int>) { got = true; }),
                  gocxx::default_case([] { gocxx::yield(); }));
  }
}

// Waits elsewhere in the loop, in the default case, or in a select without default.
void ok_blocks(gocxx::Chan<int> jobs, gocxx::Chan<int> results) {
  for (;;) {
    gocxx::select(gocxx::recv_case(jobs, [](std::optional<int>) {}), gocxx::default_case());
    results.send(1);
  }
}
void ok_sleeps_in_default(gocxx::Chan<int> jobs) {
  for (;;) {
    gocxx::select(gocxx::recv_case(jobs, [](std::optional<int>) {}),
                  gocxx::default_case([] { gocxx::time::sleep(10ms); }));
  }
}

// The default case ends the loop: a non-blocking drain.
int ok_drain(gocxx::Chan<int> jobs) {
  int n = 0;
  for (bool more = true; more;) {
    gocxx::select(gocxx::recv_case(jobs, [&](std::optional<int>) { ++n; }),
                  gocxx::default_case([&] { more = false; }));
  }
  return n;
}

// A bounded number of tries, and a select whose result decides.
int ok_bounded(gocxx::Chan<int> jobs) {
  int tries = 0;
  for (int i = 0; i < 3; ++i) {
    gocxx::select(gocxx::recv_case(jobs, [](std::optional<int>) {}),
                  gocxx::default_case([&] { ++tries; }));
  }
  for (;;) {
    if (gocxx::select(gocxx::recv_case(jobs), gocxx::default_case()) == 1) break;
  }
  return tries;
}

// NOLINT is honoured.
void suppressed(gocxx::Chan<int> jobs) {
  for (;;) {
    gocxx::select(gocxx::recv_case(jobs), gocxx::default_case());  // NOLINT(gocxx-select-default-spin)
  }
}

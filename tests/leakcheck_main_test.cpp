// GOCXX_LEAKCHECK_GTEST_MAIN(): a leak check after every test of the binary. Run as is, the
// clean test passes; tests/CMakeLists.txt also runs the disabled leaky test and expects that
// test to be reported FAILED with the leaked goroutine named (leakcheck_main.reports_leak).
#include <gocxx/leakcheck_gtest.hpp>

#include "test_util.hpp"

namespace mainleak {

[[gnu::noinline]] void block_in_send(gocxx::Chan<int> ch, std::atomic<int>& sent) {
  ch.send(1);
  sent.fetch_add(1);
}

[[gnu::noinline]] void start_sender(gocxx::Chan<int> ch, std::atomic<int>& sent) {
  gocxx::go(block_in_send, ch, std::ref(sent));
  sent.fetch_add(0);
}

}  // namespace mainleak

TEST(Clean, GoroutinesAllExit) {
  gocxx::test::run_with(2, [] {
    gocxx::Chan<int> ch(1);
    std::atomic<int> sent{0};
    mainleak::start_sender(ch, sent);
    gocxx::test::join_goroutines();
    EXPECT_EQ(sent.load(), 1);
  });
  GOCXX_VERIFY_NONE();  // the macro without options; the listener checks again at the end
}

TEST(Leaky, DISABLED_LeavesASenderBehind) {
  static gocxx::Chan<int> never;
  static std::atomic<int> sent{0};
  gocxx::test::run_with(2, [] {
    mainleak::start_sender(never, sent);
    // Until it is parked in the send, not merely found (a runnable goroutine is found too, and
    // the report would then have no frames to name).
    gocxx::test::eventually([] {
      auto leaks = gocxx::leakcheck::find();
      return leaks.size() == 1 && leaks[0].wait_reason == "chan send";
    });
  });
}

GOCXX_LEAKCHECK_GTEST_MAIN()

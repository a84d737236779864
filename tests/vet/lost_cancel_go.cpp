// gocxx-lost-cancel with EscapingOnly: false (lost_cancel_go.clang-tidy): every forgotten cancel,
// as Go's lostcancel reports them, even for contexts that die with the function.
#include <gocxx/gocxx.hpp>

using namespace std::chrono_literals;
namespace context = gocxx::context;

bool bad_local(const context::Context& parent) {
  auto [ctx, cancel] = context::with_timeout(parent, 1s);
  return ctx.err() == nullptr;
}

void bad_statement(const context::Context& parent) {
  context::with_cancel(parent);
}

void ok_called(const context::Context& parent) {
  auto [ctx, cancel] = context::with_timeout(parent, 1s);
  cancel();
}

// gocxx-waitgroup-add-in-goroutine: a goroutine whose first statement is `wg.add(n)` on a
// WaitGroup of the code that started it (staticcheck SA2000). The spawner's wg.wait() may run
// before the goroutine does, see a zero counter and return while the goroutine is still to run.
// The add belongs before the spawn call. Like SA2000, only the first statement is looked at.
#include "checks.hpp"
#include "gocxx_ast.hpp"

using namespace clang;
using namespace clang::ast_matchers;

namespace gocxx::vet {

void WaitGroupAddCheck::registerMatchers(MatchFinder* finder) {
  finder->addMatcher(spawn_call_matcher(), this);
}

void WaitGroupAddCheck::check(const MatchFinder::MatchResult& result) {
  std::optional<Spawn> spawn = as_spawn(result.Nodes.getNodeAs<CallExpr>("call"));
  if (!spawn || !spawn->lambda) return;
  const CompoundStmt* body = spawn->lambda->getCompoundStmtBody();
  if (!body || body->body_empty()) return;
  const Stmt* first = body->body_front();
  if (const auto* cleanups = dyn_cast<ExprWithCleanups>(first)) first = cleanups->getSubExpr();
  const auto* add = method_call(first, {"gocxx::sync::WaitGroup"}, {"add"});
  const ValueDecl* wg = add ? object_decl(add->getImplicitObjectArgument()) : nullptr;
  if (!wg || wg->getDeclContext() == spawn->lambda->getCallOperator()) return;
  diag(add->getExprLoc(),
       "%0.add called as the first statement of the goroutine it counts (started by %1): the "
       "spawner's wait() may return before the goroutine runs; call %0.add before starting it "
       "(staticcheck SA2000)")
      << wg->getName() << spawn->api;
}

}  // namespace gocxx::vet

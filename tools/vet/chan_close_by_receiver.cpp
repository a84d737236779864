// gocxx-chan-close-by-receiver: a channel closed while a goroutine may still send on it. The
// send then panics ("send on closed channel"), and a second close panics too ("close of closed
// channel"). Go's rule, which no vet analyzer checks: only the sender closes a channel, and with
// several senders, whoever knows they are all done (after a WaitGroup::wait) closes it.
//
// For `ch.close()` on a channel variable `ch` of function F, the SENDERS are the goroutines
// that F starts (gocxx::go and the other spawn calls, with a lambda) whose lambda calls
// `ch.send(...)`. Reported, naming one such sender S:
//   * the close is not inside a sender's lambda (a receiver, or F itself, closes) and S is not
//     joined ahead of the close (joins.hpp: a WaitGroup::wait S signals, the errgroup's wait,
//     or a receive on a channel S sends on or closes, before the close in its function);
//   * the close is inside a sender's lambda and another sender, or S itself when started in a
//     loop, is not joined ahead of it (one of several senders closes).
// A channel reached another way (an init-capture, a go() argument, a member) is not followed.
#include "checks.hpp"
#include "gocxx_ast.hpp"
#include "joins.hpp"

#include "clang/AST/StmtCXX.h"

using namespace clang;
using namespace clang::ast_matchers;

namespace gocxx::vet {
namespace {

bool sends_on(const LambdaExpr* lambda, const ValueDecl* ch) {
  bool found = false;
  for_each_stmt(lambda->getBody(), [&](const Stmt* s) {
    const auto* send = channel_call(s, {"send"});
    found = found || (send && object_decl(send->getImplicitObjectArgument()) == ch);
    return !found;
  });
  return found;
}

// Does the spawn `s` start several goroutines on one channel `ch`: is it in a loop that does
// not also declare `ch` anew on each turn?
bool repeats_on(const Stmt* s, const ValueDecl* ch, ASTContext& ctx) {
  const auto loops = enclosing_loops(s, ctx);
  if (loops.empty()) return false;
  bool declared_inside = false;
  for_each_stmt(loop_body(loops.front()), [&](const Stmt* n) {
    const auto* decls = dyn_cast<DeclStmt>(n);
    declared_inside = declared_inside || (decls && llvm::is_contained(decls->decls(), ch));
    return !declared_inside;
  });
  return !declared_inside;
}

}  // namespace

void ChanCloseByReceiverCheck::registerMatchers(MatchFinder* finder) {
  finder->addMatcher(
      traverse(TK_AsIs, cxxMemberCallExpr(callee(cxxMethodDecl(hasName("close"))),
                                          unless(isExpansionInSystemHeader()))
                            .bind("close")),
      this);
}

void ChanCloseByReceiverCheck::check(const MatchFinder::MatchResult& result) {
  ASTContext& ctx = *result.Context;
  const auto* close = channel_call(result.Nodes.getNodeAs<CXXMemberCallExpr>("close"), {"close"});
  const ValueDecl* ch = close ? object_decl(close->getImplicitObjectArgument()) : nullptr;
  const auto* owner = ch ? dyn_cast<FunctionDecl>(ch->getDeclContext()) : nullptr;
  if (!owner || !owner->hasBody()) return;

  // The senders F starts, and the one whose lambda the close is in, if any.
  std::vector<Spawn> senders;
  const Spawn* closer = nullptr;
  for_each_stmt(owner->getBody(), [&](const Stmt* s) {
    std::optional<Spawn> spawn = as_spawn(dyn_cast<CallExpr>(s));
    if (spawn && spawn->lambda && enclosing_function(s, ctx) == owner && sends_on(spawn->lambda, ch)) {
      senders.push_back(*spawn);
    }
    return true;
  });
  for (const Spawn& s : senders) {
    if (contains(s.lambda->getBody(), close)) closer = &s;
  }
  const FunctionDecl* closing_fn = enclosing_function(close, ctx);
  const SourceManager& sm = *result.SourceManager;
  for (const Spawn& s : senders) {
    if (&s == closer && !repeats_on(s.call, ch, ctx)) continue;  // the one sender closes: Go's rule
    const JoinFinder joins(s, ctx, join_functions());
    bool joined =
        closing_fn == owner
            ? sm.isBeforeInTranslationUnit(s.call->getBeginLoc(), close->getBeginLoc()) &&
                  joins.joined_in(owner->getBody(), close)
            : &s != closer && joins.joined_ahead_of(close, closing_fn->getBody());
    if (joined) continue;
    diag(close->getExprLoc(),
         "channel %0 is closed by %select{a goroutine that does not send on it|the function that "
         "started its senders|one of several goroutines that send on it}1 while the goroutine "
         "started by %2 on line %3 may still send on it: a send on a closed channel panics "
         "(Go's rule, no vet analyzer: only the sender closes a channel, after every sender is "
         "done)")
        << ch << (closer ? 2 : closing_fn == owner ? 1 : 0) << s.api
        << sm.getSpellingLineNumber(s.call->getBeginLoc());
    return;
  }
}

}  // namespace gocxx::vet

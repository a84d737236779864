// gocxx-select-default-spin: a gocxx::select with a default_case, in a loop that has no other
// blocking operation (staticcheck SA5004, "for { select { ... default: } } spins"; the seed's
// "a select default branch burns CPU / piles up goroutines").
//
// Reported when all of these hold:
//   * the select's result is discarded (code that looks at which case ran may leave the loop);
//   * it is in the body of a loop of the same function that can run forever: no condition, a
//     constant true one, or one whose variables only something else changes (another
//     goroutine, the select's cases); counted loops and range-fors try a bounded number of times;
//   * nothing else in the loop blocks: no other select without default, channel send, receive
//     or range-for, time::sleep, gocxx::blocking, WaitGroup/errgroup/Cond wait, Mutex lock,
//     gocxx::net read/write/accept, or thread-blocking sleep. Lambdas started as goroutines and
//     the select's other cases do not count (they do not run on the default path); calls of
//     other functions are assumed not to block; gocxx::yield() does not block;
//   * the default case does not end the loop: it changes no variable that the loop's condition
//     (or the condition of an if in the loop that breaks or returns) reads, and does not throw
//     or panic.
#include "checks.hpp"
#include "gocxx_ast.hpp"
#include "joins.hpp"

#include "clang/AST/StmtCXX.h"
#include "clang/Analysis/Analyses/ExprMutationAnalyzer.h"
#include "llvm/ADT/SmallPtrSet.h"

using namespace clang;
using namespace clang::ast_matchers;

namespace gocxx::vet {
namespace {

const Expr* default_case_arg(const CallExpr* select) {
  for (const Expr* arg : select->arguments()) {
    if (is_class(arg->getType(), "gocxx::DefaultCase")) return arg;
  }
  return nullptr;
}

bool blocks(const Stmt* s) {
  if (const auto* call = dyn_cast<CallExpr>(s)) {
    const std::string name = callee_name(call);
    if (name == "gocxx::select") return default_case_arg(call) == nullptr;
    for (llvm::StringRef blocking : {"gocxx::time::sleep", "gocxx::blocking", "std::this_thread::sleep_for",
                                     "std::this_thread::sleep_until", "sleep", "usleep", "nanosleep"}) {
      if (name == blocking) return true;
    }
  }
  if (const auto* range_for = dyn_cast<CXXForRangeStmt>(s)) {
    return is_channel(range_for->getRangeInit()->getType());
  }
  return channel_call(s, {"send", "recv"}) ||
         method_call(s, {"gocxx::sync::WaitGroup", "gocxx::errgroup::Group", "gocxx::sync::Cond"},
                     {"wait"}) ||
         method_call(s, {"gocxx::sync::Mutex", "gocxx::sync::RWMutex"}, {"lock", "lock_shared", "rlock"}) ||
         method_call(s, {"gocxx::net::Conn", "gocxx::net::Listener", "gocxx::net::PacketConn"},
                     {"read", "write", "accept", "read_from", "write_to"});
}

// Does `root` block on the default path of `select`: anywhere but in `select`'s other cases
// and in lambdas that do not run in place?
bool blocks_under(const Stmt* root, const CallExpr* select, const Expr* default_arg,
                  ASTContext& ctx) {
  bool found = false;
  for_each_stmt(root, [&](const Stmt* s) {
    if (found) return false;
    if (s == select) {
      found = blocks_under(default_arg, nullptr, nullptr, ctx);
      return false;
    }
    if (const auto* lambda = dyn_cast<LambdaExpr>(s)) {
      const std::string taker = callee_name(call_taking(lambda, ctx));
      if (taker != "gocxx::func" && taker != "gocxx::blocking" && taker != "gocxx::default_case") {
        return false;
      }
    }
    found = blocks(s);
    return !found;
  });
  return found;
}

using Decls = llvm::SmallPtrSet<const ValueDecl*, 8>;

// The variables and members that `s` names.
void collect_names(const Stmt* s, Decls& out) {
  for_each_stmt(s, [&](const Stmt* n) {
    if (const ValueDecl* d = named_decl(n)) out.insert(d);
    return true;
  });
}

// Does `root` change one of `vars` (skipping `skip`)? `mutation` analyzes a statement above it.
bool changes(const Stmt* root, const Decls& vars, ExprMutationAnalyzer& mutation,
             const Stmt* skip = nullptr) {
  bool changed = false;
  for_each_stmt(root, [&](const Stmt* s) {
    if (s == skip || changed) return false;
    changed = vars.count(named_decl(s)) && mutation.isMutated(cast<Expr>(s));
    return !changed;
  });
  return changed;
}

// The variables whose change may end `loop`: those its condition reads, and those read by the
// condition of an if in its body that breaks or returns.
Decls exit_variables(const Stmt* loop) {
  Decls vars;
  collect_names(loop_cond(loop), vars);
  for_each_stmt(loop_body(loop), [&](const Stmt* s) {
    if (isa<LambdaExpr>(s)) return false;
    if (const auto* if_stmt = dyn_cast<IfStmt>(s)) {
      if (jump_in(if_stmt->getThen()) != Jump::none || jump_in(if_stmt->getElse()) != Jump::none) {
        collect_names(if_stmt->getCond(), vars);
      }
    }
    return true;
  });
  return vars;
}

// Can `loop` run forever while nothing else changes: no condition, a constant true one, or one
// whose variables the loop does not change itself (outside `select`, whose cases are what it
// waits for)? A counted loop or a range-for is bounded: it tries a number of times.
bool unbounded(const Stmt* loop, const CallExpr* select, ASTContext& ctx) {
  if (isa<CXXForRangeStmt>(loop)) return false;
  const Expr* cond = loop_cond(loop);
  bool value = false;
  if (!cond || (cond->EvaluateAsBooleanCondition(value, ctx) && value)) return true;
  Decls vars;
  collect_names(cond, vars);
  ExprMutationAnalyzer mutation(*loop, ctx);
  const auto* for_stmt = dyn_cast<ForStmt>(loop);
  return !changes(loop_body(loop), vars, mutation, select) &&
         !changes(for_stmt ? for_stmt->getInc() : nullptr, vars, mutation);
}

// Does the default case's callback end the loop (change an exit variable, throw, panic)?
bool ends_loop(const LambdaExpr* callback, const Stmt* loop, ASTContext& ctx) {
  if (!callback) return false;
  ExprMutationAnalyzer mutation(*callback->getBody(), ctx);
  if (changes(callback->getBody(), exit_variables(loop), mutation)) return true;
  bool ends = false;
  for_each_stmt(callback->getBody(), [&](const Stmt* s) {
    const auto* call = dyn_cast<CallExpr>(s);
    ends = isa<CXXThrowExpr>(s) || (call && callee_name(call) == "gocxx::panic");
    return !ends;
  });
  return ends;
}

bool spawns(const LambdaExpr* callback) {
  bool found = false;
  for_each_stmt(callback ? callback->getBody() : nullptr, [&](const Stmt* s) {
    found = found || as_spawn(dyn_cast<CallExpr>(s)).has_value();
    return !found;
  });
  return found;
}

}  // namespace

void SelectDefaultSpinCheck::registerMatchers(MatchFinder* finder) {
  finder->addMatcher(
      traverse(TK_AsIs, callExpr(callee(functionDecl(hasName("::gocxx::select"))),
                                 unless(isExpansionInSystemHeader()))
                            .bind("select")),
      this);
}

void SelectDefaultSpinCheck::check(const MatchFinder::MatchResult& result) {
  ASTContext& ctx = *result.Context;
  const auto* select = result.Nodes.getNodeAs<CallExpr>("select");
  const Expr* default_arg = default_case_arg(select);
  if (!default_arg) return;
  // Code that looks at which case ran may leave the loop.
  if (!is_discarded(select, ctx)) return;
  const auto loops = enclosing_loops(select, ctx);
  if (loops.empty()) return;
  const Stmt* loop = loops.front();
  if (!unbounded(loop, select, ctx) || blocks_under(loop, select, default_arg, ctx)) return;
  // default_case(fn) or default_case(): the callback, if any.
  const auto* make = dyn_cast<CallExpr>(default_arg->IgnoreImplicit());
  const LambdaExpr* callback =
      make && make->getNumArgs() == 1 ? lambda_of(make->getArg(0)) : nullptr;
  if (ends_loop(callback, loop, ctx)) return;
  diag(default_arg->getBeginLoc(),
       "select with a default_case in a loop with no other blocking operation spins: while no "
       "case is ready the goroutine burns its P%select{| and starts a goroutine on every turn}0 "
       "(staticcheck SA5004); let the select block (drop default_case, or add a recv_case on "
       "ctx.done() or a ticker) or wait in the default case")
      << spawns(callback);
}

}  // namespace gocxx::vet

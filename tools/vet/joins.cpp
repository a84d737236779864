#include "joins.hpp"

#include "clang/AST/ExprCXX.h"
#include "clang/AST/StmtCXX.h"
#include "clang/Lex/Lexer.h"
#include "llvm/ADT/STLExtras.h"

using namespace clang;

namespace gocxx::vet {

namespace {

Jump jump(const Stmt* s, bool in_loop, bool in_switch, const ASTContext* ctx) {
  if (!s || isa<LambdaExpr>(s)) return Jump::none;  // a lambda's returns are its own
  if (isa<ReturnStmt>(s) && ctx) {
    // A failing ASSERT_*, FAIL() or GTEST_SKIP() ends the test.
    llvm::StringRef macro = outer_macro(s->getBeginLoc(), *ctx);
    if (macro.startswith("ASSERT_") || macro == "FAIL" || macro.startswith("GTEST_")) {
      return Jump::none;
    }
  }
  if (isa<ReturnStmt>(s) || isa<CoreturnStmt>(s) || isa<GotoStmt>(s) || isa<CXXThrowExpr>(s)) {
    return Jump::function;
  }
  if (isa<BreakStmt>(s)) return in_loop || in_switch ? Jump::none : Jump::block;
  if (isa<ContinueStmt>(s)) return in_loop ? Jump::none : Jump::block;
  in_loop = in_loop || is_loop(s);
  in_switch = in_switch || isa<SwitchStmt>(s);
  Jump worst = Jump::none;
  for (const Stmt* child : s->children()) {
    Jump j = jump(child, in_loop, in_switch, ctx);
    if (j == Jump::function) return j;
    if (j == Jump::block) worst = j;
  }
  return worst;
}

// Is `s` inside a loop's body, within its function?
bool in_a_loop(const Stmt* s, ASTContext& ctx) { return !enclosing_loops(s, ctx).empty(); }

// The variables a statement writes: `x = ...`, `x += ...`, `++x`, `x.store(...)`, `x.fetch_add(...)`.
void collect_writes(const Stmt* s, llvm::SmallPtrSetImpl<const ValueDecl*>& out) {
  auto add = [&](const Expr* e) {
    if (const ValueDecl* d = object_decl(e)) out.insert(d);
  };
  for_each_stmt(s, [&](const Stmt* n) {
    if (const auto* binary = dyn_cast<BinaryOperator>(n); binary && binary->isAssignmentOp()) {
      add(binary->getLHS());
    } else if (const auto* unary = dyn_cast<UnaryOperator>(n); unary && unary->isIncrementDecrementOp()) {
      add(unary->getSubExpr());
    } else if (const auto* op = dyn_cast<CXXOperatorCallExpr>(n);
               op && (op->isAssignmentOp() || op->getOperator() == OO_PlusPlus ||
                      op->getOperator() == OO_MinusMinus)) {
      add(op->getArg(0));
    } else if (const auto* call = dyn_cast<CXXMemberCallExpr>(n)) {
      const auto* method = call->getMethodDecl();
      if (method && method->getDeclName().isIdentifier() &&
          llvm::is_contained(llvm::ArrayRef<llvm::StringRef>{"store", "fetch_add", "fetch_sub",
                                                             "exchange"},
                             method->getName())) {
        add(call->getImplicitObjectArgument());
      }
    }
    return true;
  });
}

}  // namespace

llvm::StringRef outer_macro(SourceLocation loc, const ASTContext& ctx) {
  if (!loc.isMacroID()) return {};
  const SourceManager& sm = ctx.getSourceManager();
  SourceLocation invocation = sm.getExpansionLoc(loc);
  return Lexer::getSourceText(CharSourceRange::getTokenRange(invocation, invocation), sm,
                              ctx.getLangOpts());
}

Jump jump_in(const Stmt* s, const ASTContext* ctx) { return jump(s, false, false, ctx); }

std::vector<std::string> split_list(llvm::StringRef list) {
  llvm::SmallVector<llvm::StringRef, 8> items;
  list.split(items, ';', -1, false);
  std::vector<std::string> out;
  for (llvm::StringRef item : items) {
    if (!item.trim().empty()) out.push_back(item.trim().str());
  }
  return out;
}

JoinFinder::JoinFinder(const Spawn& spawn, ASTContext& ctx, llvm::ArrayRef<std::string> join_all,
                       bool transitive)
    : spawn_(spawn), ctx_(ctx), join_all_(join_all) {
  if (!spawn.lambda) return;
  const CompoundStmt* body = spawn.lambda->getCompoundStmtBody();
  if (body && !body->body_empty()) collect_writes(body->body_back(), last_written_);
  for_each_stmt(body, [&](const Stmt* s) {
    if (const auto* call = method_call(s, {"gocxx::sync::WaitGroup"}, {"done"})) {
      if (const ValueDecl* wg = object_decl(call->getImplicitObjectArgument())) done_.insert(wg);
    }
    if (const auto* call = channel_call(s, {"send", "close"})) {
      if (const ValueDecl* ch = object_decl(call->getImplicitObjectArgument())) {
        signalled_.insert(ch);
      }
    }
    return true;
  });
  if (transitive) find_joiners();
}

void JoinFinder::find_joiners() {
  const FunctionDecl* fn = enclosing_function(spawn_.call, ctx_);
  if (!fn || !fn->hasBody()) return;
  const bool many = in_a_loop(spawn_.call, ctx_);
  for_each_stmt(fn->getBody(), [&](const Stmt* s) {
    std::optional<Spawn> other = as_spawn(dyn_cast<CallExpr>(s));
    if (!other || !other->lambda || other->call == spawn_.call ||
        enclosing_function(s, ctx_) != fn) {
      return true;
    }
    if (join_in(other->lambda->getBody(), many, false)) {
      joiners_.emplace_back(std::make_unique<JoinFinder>(*other, ctx_, join_all_, false),
                            in_a_loop(other->call, ctx_));
    }
    return true;
  });
}

bool JoinFinder::is_join(const Stmt* s, bool need_loop) const {
  if (join_in(s, need_loop, false)) return true;
  return llvm::any_of(joiners_, [&](const auto& joiner) {
    return joiner.first->join_in(s, joiner.second, false);
  });
}

bool JoinFinder::join_in(const Stmt* s, bool need_loop, bool in_loop) const {
  if (!s) return false;
  auto any = [&](std::initializer_list<const Stmt*> parts, bool looping) {
    return llvm::any_of(parts, [&](const Stmt* p) { return join_in(p, need_loop, looping); });
  };
  auto loop_waits = [&](const Stmt* cond) {
    return llvm::any_of(last_written_, [&](const ValueDecl* d) { return refers_to(cond, d); });
  };
  if (const auto* block = dyn_cast<CompoundStmt>(s)) {
    for (const Stmt* child : block->body()) {
      if (join_in(child, need_loop, in_loop)) return true;
      if (jump_in(child, &ctx_) != Jump::none) return false;
    }
    return false;
  }
  if (const auto* lambda = dyn_cast<LambdaExpr>(s)) {
    // Only the bodies that run right here, in the goroutine that calls them.
    const std::string name = callee_name(call_taking(lambda, ctx_));
    return (name == "gocxx::func" || name == "gocxx::blocking") &&
           join_in(lambda->getBody(), need_loop, in_loop);
  }
  if (const auto* if_stmt = dyn_cast<IfStmt>(s)) {
    // EXPECT_NO_THROW(stmt) and its kin run `stmt` in the then branch of an if that is true.
    llvm::StringRef macro = outer_macro(if_stmt->getIfLoc(), ctx_);
    bool assertion = macro.startswith("EXPECT_") || macro.startswith("ASSERT_");
    return any({if_stmt->getInit(), if_stmt->getConditionVariableDeclStmt(), if_stmt->getCond(),
                assertion ? if_stmt->getThen() : nullptr},
               in_loop);
  }
  if (const auto* conditional = dyn_cast<AbstractConditionalOperator>(s)) {
    return join_in(conditional->getCond(), need_loop, in_loop);
  }
  if (const auto* binary = dyn_cast<BinaryOperator>(s); binary && binary->isLogicalOp()) {
    return join_in(binary->getLHS(), need_loop, in_loop);
  }
  if (const auto* switch_stmt = dyn_cast<SwitchStmt>(s)) {
    if (any({switch_stmt->getInit(), switch_stmt->getConditionVariableDeclStmt(),
             switch_stmt->getCond()},
            in_loop)) {
      return true;
    }
    // `switch (0) case 0: default:` (GoogleTest's EXPECT_/ASSERT_ macros) always runs its body.
    const Expr* cond = switch_stmt->getCond();
    return cond && cond->isIntegerConstantExpr(ctx_) &&
           join_in(switch_stmt->getBody(), need_loop, in_loop);
  }
  if (const auto* for_stmt = dyn_cast<ForStmt>(s)) {
    return loop_waits(for_stmt->getCond()) || join_in(for_stmt->getInit(), need_loop, in_loop) ||
           any({for_stmt->getCond(), for_stmt->getBody(), for_stmt->getInc()}, true);
  }
  if (const auto* while_stmt = dyn_cast<WhileStmt>(s)) {
    return loop_waits(while_stmt->getCond()) ||
           any({while_stmt->getConditionVariableDeclStmt(), while_stmt->getCond(),
                while_stmt->getBody()},
               true);
  }
  if (const auto* do_stmt = dyn_cast<DoStmt>(s)) {
    return loop_waits(do_stmt->getCond()) || any({do_stmt->getBody(), do_stmt->getCond()}, true);
  }
  if (const auto* range_for = dyn_cast<CXXForRangeStmt>(s)) {
    // for (auto v : ch): receives until ch is closed.
    if (signalled_.count(object_decl(range_for->getRangeInit()))) return true;
    return join_in(range_for->getInit(), need_loop, in_loop) ||
           join_in(range_for->getRangeInit(), need_loop, in_loop) ||
           join_in(range_for->getBody(), need_loop, true);
  }
  if (const auto* call = dyn_cast<CallExpr>(s)) {
    if (llvm::is_contained(join_all_, callee_name(call))) return true;
  }
  if (const auto* call = method_call(s, {"gocxx::sync::WaitGroup"}, {"wait"})) {
    if (done_.count(object_decl(call->getImplicitObjectArgument()))) return true;
  }
  if (const auto* call = method_call(s, {"gocxx::errgroup::Group"}, {"wait"})) {
    if (spawn_.group && object_decl(call->getImplicitObjectArgument()) == spawn_.group) return true;
  }
  if (const auto* call = channel_call(s, {"recv"})) {
    if ((!need_loop || in_loop) && signalled_.count(object_decl(call->getImplicitObjectArgument()))) {
      return true;
    }
  }
  return llvm::any_of(s->children(),
                      [&](const Stmt* child) { return join_in(child, need_loop, in_loop); });
}

bool JoinFinder::joined_in(const Stmt* scope, const Stmt* stop) const {
  bool need_loop = false;  // S is in a loop below the current block: it starts many goroutines
  for (const Stmt* cur = spawn_.call; cur && cur != scope;) {
    const Stmt* parent = parent_stmt(cur, ctx_);
    if (!parent) return false;
    if (const auto* block = dyn_cast<CompoundStmt>(parent)) {
      const auto* it = llvm::find(block->body(), cur);
      for (++it; it != block->body_end(); ++it) {
        if (stop && contains(*it, stop)) return false;
        if (is_join(*it, need_loop)) return true;
        Jump j = jump_in(*it, &ctx_);
        if (j == Jump::function) return false;
        if (j == Jump::block) break;  // resumes after the enclosing loop
      }
    } else if (is_loop(parent) && loop_body(parent) == cur) {
      need_loop = true;
    }
    cur = parent;
  }
  return false;
}

bool JoinFinder::joined_ahead_of(const Stmt* point, const Stmt* body) const {
  const SourceManager& sm = ctx_.getSourceManager();
  const bool need_loop = in_a_loop(spawn_.call, ctx_);
  for (const Stmt* cur = point; cur && cur != body;) {
    const Stmt* parent = parent_stmt(cur, ctx_);
    if (!parent) return false;
    if (const auto* block = dyn_cast<CompoundStmt>(parent)) {
      for (const Stmt* c : block->body()) {
        if (c == cur) break;
        bool after_spawn = sm.isBeforeInTranslationUnit(spawn_.call->getEndLoc(), c->getBeginLoc());
        if (after_spawn && is_join(c, need_loop)) return true;
      }
    }
    cur = parent;
  }
  return false;
}

}  // namespace gocxx::vet

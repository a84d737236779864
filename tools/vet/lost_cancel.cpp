// gocxx-lost-cancel: the cancel function of context::with_cancel / with_timeout / with_deadline
// / with_cancel_cause (and the *_cause forms) is discarded, or not used on every path out of the
// function (go vet's lostcancel, with its rule, on the function's control-flow graph).
//
// The pair the call returns is kept in a structured binding, a pair variable or a std::tie, or
// discarded (the call is a statement, or only `.first` is read). From the call, every CFG path
// to the function's exit must use the cancel function: any mention counts (a call, a copy, a
// capture, passing it on), except `(void)cancel` and reading the pair's `.first`. Paths that end
// in a throw or a [[noreturn]] call (a panic) are not followed, as Go's analyzer does not follow
// panics.
//
// Go reports every forgotten cancel, because a Go context stays registered with its parent (and
// its timer runs) until the parent is cancelled. A gocxx context is released with its last
// handle (docs/context.md), so one that dies with the function leaks nothing. By default
// (option EscapingOnly: true) the check therefore reports only a context that may outlive the
// function: the context, or one derived from it (a local initialized from it: with_value,
// with_*, errgroup::with_context), is captured by or passed to a goroutine that the function
// does not join (joins.hpp), returned, or assigned to something that is not a local (a value
// that carries a context: a Context, a pair holding one, an errgroup::Group). Calls of other
// functions are assumed not to keep it. EscapingOnly: false reports as Go does. As with the
// joins, the return of a failing GoogleTest ASSERT_* is not followed.
#include "checks.hpp"
#include "gocxx_ast.hpp"
#include "joins.hpp"

#include "clang/AST/ParentMapContext.h"
#include "clang/Analysis/CFG.h"
#include "llvm/ADT/SmallPtrSet.h"

using namespace clang;
using namespace clang::ast_matchers;

namespace gocxx::vet {
namespace {

// The mentions of `cancel` in `body` that use it (see above). The CFG lists subexpressions as
// elements of their own, so the exceptions are decided here, on the tree.
llvm::SmallPtrSet<const Stmt*, 8> uses_in(const Stmt* body, const ValueDecl* cancel, bool pair) {
  llvm::SmallPtrSet<const Stmt*, 8> uses;
  for_each_stmt(body, [&](const Stmt* n) {
    if (const auto* cast = dyn_cast<ExplicitCastExpr>(n);
        cast && cast->getType()->isVoidType() && names(cast->getSubExpr(), cancel)) {
      return false;  // (void)cancel: discarded, not used
    }
    if (const auto* member = dyn_cast<MemberExpr>(n);
        pair && member && names(member->getBase(), cancel) &&
        member->getMemberDecl()->getName() == "first") {
      return false;  // the context half of the pair
    }
    if (const auto* call = dyn_cast<CallExpr>(n); call && callee_name(call) == "std::tie") {
      return false;  // std::tie(ctx, cancel) = ...: where it is stored, not a use
    }
    if (const auto* ref = dyn_cast<DeclRefExpr>(n); ref && ref->getDecl() == cancel) uses.insert(n);
    return true;
  });
  return uses;
}

bool any_of_under(const Stmt* s, const llvm::SmallPtrSetImpl<const Stmt*>& nodes) {
  bool found = false;
  for_each_stmt(s, [&](const Stmt* n) {
    found = found || nodes.count(n);
    return !found;
  });
  return found;
}

bool ends_in_panic(const CFGBlock* block) {
  if (block->hasNoReturnElement()) return true;
  for (const CFGElement& e : *block) {
    if (auto s = e.getAs<CFGStmt>(); s && isa<CXXThrowExpr>(s->getStmt())) return true;
  }
  return false;
}

const ReturnStmt* return_in(const CFGBlock* block) {
  for (const CFGElement& e : *block) {
    if (auto s = e.getAs<CFGStmt>()) {
      if (const auto* ret = dyn_cast<ReturnStmt>(s->getStmt())) return ret;
    }
  }
  return nullptr;
}

struct Leak {
  bool found = false;
  const ReturnStmt* at = nullptr;  // nullptr: the end of the function
};

// A path from `call` to the exit through none of `uses`.
Leak unused_path(const CFG& cfg, const CallExpr* call, const llvm::SmallPtrSetImpl<const Stmt*>& uses,
                 const ASTContext& ctx) {
  const CFGBlock* start = nullptr;
  size_t index = 0;
  for (const CFGBlock* block : cfg) {
    for (size_t i = 0; i < block->size(); ++i) {
      auto s = (*block)[i].getAs<CFGStmt>();
      if (s && s->getStmt() == call) start = block, index = i;
    }
  }
  if (!start) return {};
  auto block_uses = [&](const CFGBlock* block, size_t from) {
    for (size_t i = from; i < block->size(); ++i) {
      auto s = (*block)[i].getAs<CFGStmt>();
      if (s && any_of_under(s->getStmt(), uses)) return true;
    }
    return block->getTerminatorStmt() && any_of_under(block->getTerminatorStmt(), uses);
  };
  if (block_uses(start, index + 1) || ends_in_panic(start)) return {};
  llvm::SmallVector<std::pair<const CFGBlock*, const CFGBlock*>, 16> work;  // block, came from
  llvm::SmallPtrSet<const CFGBlock*, 32> seen;
  for (const auto& succ : start->succs()) {
    if (const CFGBlock* b = succ.getReachableBlock()) work.push_back({b, start});
  }
  while (!work.empty()) {
    auto [block, from] = work.pop_back_val();
    if (block == &cfg.getExit()) {
      const ReturnStmt* ret = return_in(from);
      // A failing ASSERT_* ends the test: not followed, as the joins do not follow it.
      if (ret && jump_in(ret, &ctx) == Jump::none) continue;
      return {true, ret};
    }
    if (!seen.insert(block).second || block_uses(block, 0) || ends_in_panic(block)) continue;
    for (const auto& succ : block->succs()) {
      if (const CFGBlock* b = succ.getReachableBlock()) work.push_back({b, block});
    }
  }
  return {};
}

bool carries_context(QualType t) {
  const CXXRecordDecl* rd = record_of(t);
  if (is_class(rd, "gocxx::context::Context") || is_class(rd, "gocxx::errgroup::Group")) return true;
  const auto* pair = dyn_cast_or_null<ClassTemplateSpecializationDecl>(rd);
  return pair && is_class(pair, "std::pair") &&
         carries_context(pair->getTemplateArgs()[0].getAsType());
}

// Where the context in `roots` (and the locals derived from it) may outlive `fn`, or null.
class Escapes {
 public:
  Escapes(const FunctionDecl* fn, ASTContext& ctx, llvm::ArrayRef<std::string> join_all)
      : fn_(fn), ctx_(ctx), join_all_(join_all) {}

  // The statement through which the context escapes, or nullptr.
  const Stmt* find(llvm::ArrayRef<const Stmt*> roots_exprs, llvm::ArrayRef<const ValueDecl*> roots) {
    tracked_.insert(roots.begin(), roots.end());
    derive();
    const Stmt* body = fn_->getBody();
    const Stmt* found = nullptr;
    auto mentions = [&](const Stmt* s) {
      return llvm::any_of(tracked_, [&](const ValueDecl* d) { return refers_to(s, d); }) ||
             llvm::any_of(roots_exprs, [&](const Stmt* e) { return contains(s, e); });
    };
    for_each_stmt(body, [&](const Stmt* s) {
      if (found) return false;
      if (std::optional<Spawn> spawn = as_spawn(dyn_cast<CallExpr>(s))) {
        // after_func(ctx, f) keeps no goroutine waiting: f is registered, not started.
        unsigned first = spawn->api == "context::after_func" ? 1 : 0;
        bool kept = spawn->lambda && mentions(spawn->lambda);  // also a lambda in a variable
        for (unsigned i = first; i < spawn->call->getNumArgs(); ++i) {
          kept = kept || mentions(spawn->call->getArg(i));
        }
        if (kept && !JoinFinder(*spawn, ctx_, join_all_).joined_in(body)) found = s;
        return !found;
      }
      if (isa<LambdaExpr>(s)) return true;
      if (const auto* ret = dyn_cast<ReturnStmt>(s); ret && enclosing_function(ret, ctx_) == fn_) {
        const Expr* value = ret->getRetValue();
        if (value && carries_context(value->getType()) && mentions(value)) found = s;
      }
      if (const auto* assign = dyn_cast<CXXOperatorCallExpr>(s);
          assign && assign->getOperator() == OO_Equal && assign->getNumArgs() == 2) {
        const Expr* value = assign->getArg(1);
        if (!is_local(assign->getArg(0)) && carries_context(value->getType()) && mentions(value)) {
          found = s;
        }
      }
      return !found;
    });
    return found;
  }

 private:
  bool is_local(const Expr* e) const {
    const auto* ref = dyn_cast<DeclRefExpr>(e->IgnoreParenImpCasts());
    const auto* var = ref ? dyn_cast<VarDecl>(ref->getDecl()) : nullptr;
    if (ref && isa<BindingDecl>(ref->getDecl())) return true;
    return var && var->hasLocalStorage() && !var->getType()->isReferenceType();
  }

  // Adds the locals initialized from a tracked one that carry a context, to a fixed point.
  void derive() {
    for (bool grew = true; grew;) {
      grew = false;
      for_each_stmt(fn_->getBody(), [&](const Stmt* s) {
        const auto* decls = dyn_cast<DeclStmt>(s);
        if (!decls) return true;
        for (const Decl* d : decls->decls()) {
          const auto* var = dyn_cast<VarDecl>(d);
          if (!var || !var->getInit() || tracked_.count(var)) continue;
          if (!llvm::any_of(tracked_, [&](const ValueDecl* t) { return refers_to(var->getInit(), t); })) {
            continue;
          }
          if (const auto* bindings = dyn_cast<DecompositionDecl>(var)) {
            for (const BindingDecl* b : bindings->bindings()) {
              if (carries_context(b->getType())) grew = tracked_.insert(b).second || grew;
            }
          } else if (carries_context(var->getType())) {
            grew = tracked_.insert(var).second || grew;
          }
        }
        return true;
      });
    }
  }

  const FunctionDecl* fn_;
  ASTContext& ctx_;
  llvm::ArrayRef<std::string> join_all_;
  llvm::SmallPtrSet<const ValueDecl*, 8> tracked_;
};

}  // namespace

LostCancelCheck::LostCancelCheck(llvm::StringRef name, clang::tidy::ClangTidyContext* context)
    : JoiningCheck(name, context), escaping_only_(bool_option("EscapingOnly", true)) {}

void LostCancelCheck::storeOptions(clang::tidy::ClangTidyOptions::OptionMap& options) {
  JoiningCheck::storeOptions(options);
  store_bool(options, "EscapingOnly", escaping_only_);
}

void LostCancelCheck::registerMatchers(MatchFinder* finder) {
  finder->addMatcher(
      callExpr(callee(functionDecl(hasAnyName(
                   "::gocxx::context::with_cancel", "::gocxx::context::with_timeout",
                   "::gocxx::context::with_deadline", "::gocxx::context::with_cancel_cause",
                   "::gocxx::context::with_timeout_cause", "::gocxx::context::with_deadline_cause"))))
          .bind("call"),
      this);
}

void LostCancelCheck::check(const MatchFinder::MatchResult& result) {
  ASTContext& ctx = *result.Context;
  const auto* call = result.Nodes.getNodeAs<CallExpr>("call");
  const FunctionDecl* fn = enclosing_function(call, ctx);
  if (!fn || !fn->hasBody()) return;
  const std::string api = callee_name(call).substr(std::string("gocxx::").size());
  const DynTypedNode to = consumer(call, ctx);

  const ValueDecl* cancel = nullptr;  // the variable holding the cancel function (or the pair)
  const ValueDecl* context = nullptr;  // the variable holding the context (or the pair)
  const Expr* inline_context = nullptr;  // with_*(...).first, used in place
  bool pair = false;
  if (const auto* binding = to.get<DecompositionDecl>()) {
    if (binding->bindings().size() != 2) return;
    context = binding->bindings()[0];
    cancel = binding->bindings()[1];
  } else if (const auto* var = to.get<VarDecl>()) {
    context = cancel = var;
    pair = true;
  } else if (const auto* assign = to.get<CXXOperatorCallExpr>();
             assign && assign->getOperator() == OO_Equal) {
    // std::tie(ctx, cancel) = with_cancel(parent);
    const auto* tie = dyn_cast<CallExpr>(assign->getArg(0)->IgnoreImplicit());
    if (!tie || callee_name(tie) != "std::tie" || tie->getNumArgs() != 2) return;
    context = object_decl(tie->getArg(0));
    cancel = object_decl(tie->getArg(1));
    if (!cancel) return;
  } else {
    // Discarded: a statement of its own, (void), or only `.first` read.
    const auto* member = to.get<MemberExpr>();
    const auto* cast = to.get<ExplicitCastExpr>();
    const bool first = member && member->getMemberDecl()->getName() == "first";
    if (!first && !(cast && cast->getType()->isVoidType()) && !is_discarded(call, ctx)) {
      return;  // returned, passed on: the caller's to cancel
    }
    if (first) {
      DynTypedNode kept = consumer(member, ctx);
      if (const auto* var = kept.get<VarDecl>()) context = var;
      else inline_context = member;
    }
    if (escaping_only_) {
      llvm::SmallVector<const ValueDecl*, 1> roots;
      if (context) roots.push_back(context);
      llvm::SmallVector<const Stmt*, 1> exprs;
      if (inline_context) exprs.push_back(inline_context);
      if (!first || !Escapes(fn, ctx, join_functions()).find(exprs, roots)) return;
    }
    diag(call->getBeginLoc(),
         "the cancel function returned by %0 should be called, not discarded, to avoid a "
         "context leak: goroutines waiting on its done() wait until the parent is cancelled "
         "or the deadline passes (go vet: lostcancel)")
        << api;
    return;
  }

  const Stmt* escape = nullptr;
  if (escaping_only_) {
    escape = Escapes(fn, ctx, join_functions()).find({}, context ? llvm::makeArrayRef(&context, 1)
                                                                 : llvm::ArrayRef<const ValueDecl*>());
    if (!escape) return;
  }
  CFG::BuildOptions options;
  options.setAllAlwaysAdd();
  std::unique_ptr<CFG> cfg = CFG::buildCFG(fn, fn->getBody(), &ctx, options);
  if (!cfg) return;
  Leak leak = unused_path(*cfg, call, uses_in(fn->getBody(), cancel, pair), ctx);
  if (!leak.found) return;
  const SourceManager& sm = *result.SourceManager;
  diag(cancel->getLocation(),
       "the cancel function %0 from %1 is not used on all paths (possible context leak): "
       "goroutines waiting on its done() wait until the parent is cancelled or the deadline "
       "passes (go vet: lostcancel)")
      << cancel << api;
  SourceLocation at = leak.at ? leak.at->getBeginLoc() : fn->getBody()->getEndLoc();
  diag(at, "%select{the end of the function|this return statement}0 may be reached without "
           "using the cancel function %1 defined on line %2",
       DiagnosticIDs::Note)
      << (leak.at != nullptr) << cancel << sm.getSpellingLineNumber(cancel->getLocation());
  if (escape) {
    diag(escape->getBeginLoc(), "the context outlives the function here", DiagnosticIDs::Note);
  }
}

}  // namespace gocxx::vet

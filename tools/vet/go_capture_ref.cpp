// gocxx-go-capture-ref: a goroutine lambda that captures by reference a variable whose lifetime
// may end before the goroutine does (go vet's loopclosure, and its C++ extension: Go moves
// captured variables to the heap, C++ leaves them in the frame that dies).
//
// Reported: a by-reference capture (`&x`, or `x` under `[&]`) of a non-static, non-reference
// local or parameter of the function that makes the spawn call (a lambda's body is its own
// function), unless the spawning code joins the goroutine (joins.hpp) before the variable's
// scope ends. Loop variables (declared in a for's init or changed by its increment, and
// range-for variables) are reported as loopclosure, and there the join must happen within the
// same iteration; so is a member changed by a for's increment that the goroutine reads through
// `this`. Captures of references (the referent's lifetime is not this function's) and of `this`
// for other members are not reported.
//
// Fix-it: capture by value (`[&x]` -> `[x]`, `[&]` -> `[&, x]`, a member -> `[this, m = m]`),
// adding `mutable` when the goroutine calls non-const methods of a copied handle (channels,
// contexts, sockets, shared_ptr: copies share the object). No fix-it when the goroutine modifies
// a plain value (a copy would hide the change) or the type cannot be copied.
#include "checks.hpp"
#include "gocxx_ast.hpp"
#include "joins.hpp"

#include "clang/AST/StmtCXX.h"
#include "clang/AST/TypeLoc.h"
#include "clang/Analysis/Analyses/ExprMutationAnalyzer.h"
#include "llvm/ADT/SmallVector.h"

using namespace clang;
using namespace clang::ast_matchers;

namespace gocxx::vet {
namespace {

enum class Kind { shared_loop_var, iteration_var, loop_member, local };

struct Finding {
  const ValueDecl* var = nullptr;  // a VarDecl, or the FieldDecl of a loop_member
  Kind kind = Kind::local;
  SourceLocation at;                 // the capture (or the capture default `&`)
  const Expr* use = nullptr;         // the first use in the goroutine
  SourceLocation ampersand;          // `&x`: the `&` to remove
  bool copy = false;                 // the fix-it adds a by-value capture to the list
  bool fixable = false;
  bool needs_mutable = false;
  const char* no_fix_reason = nullptr;
};

// Types whose copies share one object: a by-value capture keeps it alive and changes nothing.
bool is_handle(QualType t) {
  const CXXRecordDecl* rd = record_of(t);
  for (llvm::StringRef cls :
       {"gocxx::Chan", "gocxx::RecvChan", "gocxx::SendChan", "gocxx::error",
        "gocxx::context::Context", "gocxx::context::CancelFunc", "gocxx::context::CancelCauseFunc",
        "gocxx::context::StopFunc", "gocxx::net::Conn", "gocxx::net::Listener",
        "gocxx::net::PacketConn", "std::shared_ptr"}) {
    if (is_class(rd, cls)) return true;
  }
  return false;
}

bool copyable(QualType t) {
  const CXXRecordDecl* rd = t.getNonReferenceType()->getAsCXXRecordDecl();
  if (!rd) return true;
  if (!rd->hasDefinition()) return false;
  for (const CXXConstructorDecl* ctor : rd->ctors()) {
    if (ctor->isCopyConstructor()) return !ctor->isDeleted() && ctor->getAccess() != AS_private;
  }
  return rd->needsImplicitCopyConstructor() && !rd->defaultedCopyConstructorIsDeleted();
}

bool declares(const Stmt* s, const Decl* d) {
  const auto* decls = dyn_cast_or_null<DeclStmt>(s);
  return decls && llvm::is_contained(decls->decls(), d);
}

// The loop around the spawn whose variable `var` is (declared in a for's init, changed by its
// increment, or a range-for's variable), or nullptr.
const Stmt* loop_of(const VarDecl* var, llvm::ArrayRef<const Stmt*> loops) {
  for (const Stmt* loop : loops) {
    if (const auto* f = dyn_cast<ForStmt>(loop)) {
      if (declares(f->getInit(), var) || (f->getInc() && refers_to(f->getInc(), var))) return loop;
    } else if (const auto* r = dyn_cast<CXXForRangeStmt>(loop)) {
      if (r->getLoopVariable() == var) return loop;
    }
  }
  return nullptr;
}

// The statement that `var` is scoped to: its block, or the if/while/switch/for declaring it.
const Stmt* scope_of(const VarDecl* var, const FunctionDecl* fn, ASTContext& ctx) {
  if (isa<ParmVarDecl>(var)) return fn->getBody();
  auto parents = ctx.getParents(*var);
  const Stmt* decl = parents.empty() ? nullptr : parents[0].get<Stmt>();
  const Stmt* parent = decl ? parent_stmt(decl, ctx) : nullptr;
  if (const auto* range_for = dyn_cast_or_null<CXXForRangeStmt>(parent)) {
    return range_for->getBody();
  }
  return parent ? parent : fn->getBody();
}

const Expr* first_use(const Stmt* body, const ValueDecl* var) {
  const Expr* use = nullptr;
  for_each_stmt(body, [&](const Stmt* s) {
    if (const auto* ref = dyn_cast<DeclRefExpr>(s); ref && ref->getDecl() == var) use = ref;
    if (const auto* member = dyn_cast<MemberExpr>(s); member && member->getMemberDecl() == var) {
      use = member;
    }
    return use == nullptr;
  });
  return use;
}

// `&` right before a capture's name, skipping blanks.
SourceLocation ampersand_before(SourceLocation name, const SourceManager& sm) {
  if (name.isMacroID()) return {};
  const char* at = sm.getCharacterData(name);
  const char* begin = sm.getBufferData(sm.getFileID(name)).data();
  const char* p = at;
  while (p > begin && (p[-1] == ' ' || p[-1] == '\t')) --p;
  if (p == begin || p[-1] != '&') return {};
  return name.getLocWithOffset(-static_cast<int>(at - (p - 1)));
}

// Fields that a for loop's increment changes through `this` (`for (next = 0; ...; ++next)`).
llvm::SmallVector<const FieldDecl*, 2> loop_members(const Stmt* loop) {
  llvm::SmallVector<const FieldDecl*, 2> fields;
  const auto* f = dyn_cast<ForStmt>(loop);
  for_each_stmt(f ? f->getInc() : nullptr, [&](const Stmt* s) {
    const auto* member = dyn_cast<MemberExpr>(s);
    if (member && isa<CXXThisExpr>(member->getBase()->IgnoreParenImpCasts())) {
      if (const auto* field = dyn_cast<FieldDecl>(member->getMemberDecl())) fields.push_back(field);
    }
    return true;
  });
  return fields;
}

void decide_fix(Finding& f, const LambdaExpr* lambda, ASTContext& ctx) {
  ExprMutationAnalyzer mutation(*lambda->getBody(), ctx);
  bool mutated = false;
  if (f.kind == Kind::loop_member) {
    bool implicit_only = true;
    for_each_stmt(lambda->getBody(), [&](const Stmt* s) {
      const auto* member = dyn_cast<MemberExpr>(s);
      if (member && member->getMemberDecl() == f.var) {
        implicit_only = implicit_only && member->isImplicitAccess();
        mutated = mutated || mutation.isMutated(member);
      }
      return true;
    });
    if (!implicit_only) f.no_fix_reason = "it is also named as this->member";
  } else {
    mutated = mutation.isMutated(f.var);
  }
  if (f.no_fix_reason) return;
  const QualType type = f.var->getType();
  if (!copyable(type)) {
    f.no_fix_reason = "its type cannot be copied; join the goroutine before it goes out of scope, "
                      "or own it through a std::shared_ptr";
  } else if (mutated && !is_handle(type)) {
    f.no_fix_reason = "the goroutine modifies it, which a copy would hide; share it through a "
                      "std::shared_ptr or a channel, or join the goroutine";
  } else {
    f.fixable = true;
    f.needs_mutable = mutated && !lambda->isMutable();
  }
}

// The insertions every fixable finding of one lambda shares: the by-value captures (`added`,
// before the `]`) and `mutable`, after the parameter list (written when the lambda has none).
void add_shared_fixes(const LambdaExpr* lambda, const std::string& added, bool needs_mutable,
                      llvm::SmallVectorImpl<FixItHint>& fixes) {
  const SourceLocation close = lambda->getIntroducerRange().getEnd();  // the `]`
  if (!added.empty()) fixes.push_back(FixItHint::CreateInsertion(close, added));
  if (!needs_mutable) return;
  if (!lambda->hasExplicitParameters()) {
    fixes.push_back(FixItHint::CreateInsertion(close.getLocWithOffset(1), "() mutable"));
  } else if (auto proto = lambda->getCallOperator()
                              ->getTypeSourceInfo()
                              ->getTypeLoc()
                              .getAsAdjusted<FunctionProtoTypeLoc>()) {
    fixes.push_back(FixItHint::CreateInsertion(proto.getRParenLoc().getLocWithOffset(1), " mutable"));
  }
}

}  // namespace

void GoCaptureRefCheck::registerMatchers(MatchFinder* finder) {
  finder->addMatcher(spawn_call_matcher(), this);
}

void GoCaptureRefCheck::check(const MatchFinder::MatchResult& result) {
  ASTContext& ctx = *result.Context;
  std::optional<Spawn> spawn = as_spawn(result.Nodes.getNodeAs<CallExpr>("call"));
  if (!spawn || !spawn->lambda) return;
  const LambdaExpr* lambda = spawn->lambda;
  const FunctionDecl* fn = enclosing_function(spawn->call, ctx);
  if (!fn || !fn->hasBody()) return;
  const auto loops = enclosing_loops(spawn->call, ctx);
  const JoinFinder joins(*spawn, ctx, join_functions());
  const SourceManager& sm = *result.SourceManager;

  std::vector<Finding> findings;
  bool captures_this = false;
  for (const LambdaCapture& capture : lambda->captures()) {
    if (capture.capturesThis()) captures_this = true;
    if (!capture.capturesVariable() || capture.getCaptureKind() != LCK_ByRef ||
        lambda->isInitCapture(&capture)) {
      continue;
    }
    const VarDecl* var = capture.getCapturedVar();
    if (!var->hasLocalStorage() || var->getType()->isReferenceType() ||
        var->getDeclContext() != fn) {
      continue;
    }
    const Stmt* loop = loop_of(var, loops);
    const Stmt* scope = loop ? loop_body(loop) : scope_of(var, fn, ctx);
    if (joins.joined_in(scope)) continue;
    Finding f;
    f.var = var;
    f.kind = !loop ? Kind::local : isa<ForStmt>(loop) ? Kind::shared_loop_var : Kind::iteration_var;
    f.use = first_use(lambda->getBody(), var);
    if (capture.isImplicit()) {
      f.at = lambda->getCaptureDefaultLoc();
      f.copy = true;
    } else {
      f.at = capture.getLocation();
      f.ampersand = ampersand_before(capture.getLocation(), sm);
    }
    findings.push_back(f);
  }
  if (captures_this) {
    for (const Stmt* loop : loops) {
      for (const FieldDecl* field : loop_members(loop)) {
        const Expr* use = first_use(lambda->getBody(), field);
        if (!use || joins.joined_in(loop_body(loop))) continue;
        Finding f;
        f.var = field;
        f.kind = Kind::loop_member;
        f.at = lambda->getIntroducerRange().getBegin();
        f.use = use;
        f.copy = true;
        findings.push_back(f);
      }
    }
  }
  if (findings.empty()) return;

  // One insertion for every capture the fixes add, and one `mutable`: separate insertions at
  // one place would conflict. Both ride on the first fixable finding.
  std::string added;
  bool needs_mutable = false;
  for (Finding& f : findings) {
    decide_fix(f, lambda, ctx);
    if (!f.fixable) continue;
    needs_mutable = needs_mutable || f.needs_mutable;
    if (f.copy) {
      std::string name = f.var->getName().str();
      added += ", " + (f.kind == Kind::loop_member ? name + " = " + name : name);
    }
  }
  const bool in_macro = lambda->getBeginLoc().isMacroID() || lambda->getEndLoc().isMacroID();
  bool shared_fix_placed = false;
  for (const Finding& f : findings) {
    static constexpr const char* kMessages[] = {
        "loop variable %0 captured by reference in a goroutine started by %1: the goroutine reads "
        "it when it runs, and the loop keeps changing it (go vet: loopclosure)",
        "loop variable %0 captured by reference in a goroutine started by %1: it is destroyed at "
        "the end of the iteration, while the goroutine may still run (go vet: loopclosure)",
        "loop variable %0 (a member, read through 'this') in a goroutine started by %1: the "
        "goroutine reads it when it runs, and the loop keeps changing it (go vet: loopclosure)",
        "%select{local variable|parameter}2 %0 captured by reference in a goroutine started by "
        "%1, which may outlive it: no WaitGroup::wait, errgroup wait or channel receive joins the "
        "goroutine before %0 goes out of scope (go vet: loopclosure; Go would move %0 to the heap)",
    };
    llvm::SmallVector<FixItHint, 3> fixes;
    if (f.fixable && !in_macro) {
      if (f.ampersand.isValid()) fixes.push_back(FixItHint::CreateRemoval(f.ampersand));
      if (!shared_fix_placed) {
        shared_fix_placed = true;
        add_shared_fixes(lambda, added, needs_mutable, fixes);
      }
    }
    diag(f.at, kMessages[static_cast<int>(f.kind)])
        << f.var << spawn->api << isa<ParmVarDecl>(f.var) << fixes;
    if (f.use) diag(f.use->getExprLoc(), "%0 is used here", DiagnosticIDs::Note) << f.var;
    if (f.no_fix_reason) {
      diag(f.at, "no fix-it for %0: %1", DiagnosticIDs::Note) << f.var << f.no_fix_reason;
    }
  }
}

}  // namespace gocxx::vet

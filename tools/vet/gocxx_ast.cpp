#include "gocxx_ast.hpp"

#include "clang/AST/DeclCXX.h"
#include "clang/AST/ParentMapContext.h"
#include "clang/AST/StmtCXX.h"
#include "llvm/ADT/STLExtras.h"

using namespace clang;

namespace gocxx::vet {

namespace {

// Where a spawn API takes its goroutine body.
struct SpawnApi {
  llvm::StringRef qualified_name;
  llvm::StringRef shown_as;
  unsigned body_arg;
};
constexpr SpawnApi kSpawnApis[] = {
    {"gocxx::go", "gocxx::go", 0},  // go(SpawnOptions, f, ...) is handled in as_spawn
    {"gocxx::errgroup::Group::go", "errgroup::Group::go", 0},
    {"gocxx::errgroup::Group::try_go", "errgroup::Group::try_go", 0},
    {"gocxx::time::after_func", "time::after_func", 1},
    {"gocxx::context::after_func", "context::after_func", 1},
};

DynTypedNode first_parent(const DynTypedNode& n, ASTContext& ctx) {
  auto parents = ctx.getParents(n);
  return parents.empty() ? DynTypedNode() : parents[0];
}

}  // namespace

std::optional<Spawn> as_spawn(const CallExpr* call) {
  const FunctionDecl* fd = call ? call->getDirectCallee() : nullptr;
  if (!fd) return std::nullopt;
  const std::string name = fd->getQualifiedNameAsString();
  for (const SpawnApi& api : kSpawnApis) {
    if (name != api.qualified_name) continue;
    unsigned body = api.body_arg;
    if (body < call->getNumArgs() && is_class(call->getArg(body)->getType(), "gocxx::SpawnOptions")) {
      ++body;
    }
    Spawn s;
    s.call = call;
    s.api = api.shown_as;
    if (body < call->getNumArgs()) s.lambda = lambda_of(call->getArg(body));
    if (const auto* member = dyn_cast<CXXMemberCallExpr>(call)) {
      s.group = object_decl(member->getImplicitObjectArgument());
    }
    return s;
  }
  return std::nullopt;
}

ast_matchers::StatementMatcher spawn_call_matcher() {
  using namespace ast_matchers;
  return callExpr(callee(functionDecl(hasAnyName(
                      "::gocxx::go", "::gocxx::errgroup::Group::go",
                      "::gocxx::errgroup::Group::try_go", "::gocxx::time::after_func",
                      "::gocxx::context::after_func"))))
      .bind("call");
}

const LambdaExpr* lambda_of(const Expr* e) {
  for (int depth = 0; e && depth < 16; ++depth) {
    e = e->IgnoreParenImpCasts();
    if (const auto* lambda = dyn_cast<LambdaExpr>(e)) return lambda;
    if (const auto* m = dyn_cast<MaterializeTemporaryExpr>(e)) {
      e = m->getSubExpr();
    } else if (const auto* b = dyn_cast<CXXBindTemporaryExpr>(e)) {
      e = b->getSubExpr();
    } else if (const auto* cleanups = dyn_cast<ExprWithCleanups>(e)) {
      e = cleanups->getSubExpr();
    } else if (const auto* cast = dyn_cast<CastExpr>(e)) {
      e = cast->getSubExpr();
    } else if (const auto* construct = dyn_cast<CXXConstructExpr>(e)) {
      // std::function<void()>(lambda), or a copy/move of one.
      e = construct->getNumArgs() == 1 ? construct->getArg(0) : nullptr;
    } else if (const auto* call = dyn_cast<CallExpr>(e)) {
      // std::move(worker)
      e = call->getNumArgs() == 1 && callee_name(call) == "std::move" ? call->getArg(0) : nullptr;
    } else if (const auto* ref = dyn_cast<DeclRefExpr>(e)) {
      const auto* var = dyn_cast<VarDecl>(ref->getDecl());
      e = var && var->hasLocalStorage() ? var->getInit() : nullptr;
    } else {
      return nullptr;
    }
  }
  return nullptr;
}

const CXXRecordDecl* record_of(QualType t, bool through_pointers) {
  if (t.isNull()) return nullptr;
  t = t.getNonReferenceType();
  if (through_pointers && t->isPointerType()) t = t->getPointeeType();
  return t->getAsCXXRecordDecl();
}

bool is_class(const CXXRecordDecl* rd, llvm::StringRef qualified_name) {
  return rd && rd->getQualifiedNameAsString() == qualified_name;
}

bool is_class(QualType t, llvm::StringRef qualified_name) {
  return is_class(record_of(t), qualified_name);
}

bool is_channel(QualType t) {
  const CXXRecordDecl* rd = record_of(t);
  return is_class(rd, "gocxx::Chan") || is_class(rd, "gocxx::RecvChan") ||
         is_class(rd, "gocxx::SendChan");
}

bool is_error_like(QualType t) {
  const CXXRecordDecl* rd = record_of(t);
  if (!rd || !rd->hasDefinition()) return false;
  if (is_class(rd, "gocxx::error")) return true;
  return llvm::any_of(rd->fields(), [](const FieldDecl* f) {
    return f->getDeclName().isIdentifier() && f->getName() == "err" &&
           is_class(f->getType(), "gocxx::error");
  });
}

const ValueDecl* object_decl(const Expr* e) {
  for (int depth = 0; e && depth < 8; ++depth) {
    e = e->IgnoreParenImpCasts();
    if (const auto* ref = dyn_cast<DeclRefExpr>(e)) {
      const ValueDecl* d = ref->getDecl();
      return isa<VarDecl>(d) || isa<BindingDecl>(d) ? d : nullptr;
    }
    if (const auto* op = dyn_cast<CXXOperatorCallExpr>(e)) {
      // A smart pointer: wg->wait(), (*wg).wait().
      bool deref = op->getOperator() == OO_Arrow || op->getOperator() == OO_Star;
      e = deref && op->getNumArgs() == 1 ? op->getArg(0) : nullptr;
    } else if (const auto* unary = dyn_cast<UnaryOperator>(e)) {
      e = unary->getOpcode() == UO_Deref ? unary->getSubExpr() : nullptr;
    } else {
      return nullptr;
    }
  }
  return nullptr;
}

const CXXMemberCallExpr* method_call(const Stmt* s, llvm::ArrayRef<llvm::StringRef> classes,
                                     llvm::ArrayRef<llvm::StringRef> names) {
  const auto* call = dyn_cast_or_null<CXXMemberCallExpr>(s);
  const CXXMethodDecl* method = call ? call->getMethodDecl() : nullptr;
  if (!method || !method->getDeclName().isIdentifier() ||
      !llvm::is_contained(names, method->getName())) {
    return nullptr;
  }
  // The object as written: a method of a base (Chan's recv is ChanHandle's) converts it.
  const CXXRecordDecl* rd =
      record_of(call->getImplicitObjectArgument()->IgnoreParenImpCasts()->getType(), true);
  for (llvm::StringRef cls : classes) {
    if (is_class(rd, cls)) return call;
  }
  return nullptr;
}

const CXXMemberCallExpr* channel_call(const Stmt* s, llvm::ArrayRef<llvm::StringRef> names) {
  return method_call(s, {"gocxx::Chan", "gocxx::RecvChan", "gocxx::SendChan"}, names);
}

std::string callee_name(const CallExpr* call) {
  const FunctionDecl* fd = call ? call->getDirectCallee() : nullptr;
  if (!fd) return {};
  // Not getQualifiedNameAsString(): it spells a class template's arguments (std::future<int>).
  std::string name = fd->getNameAsString();
  for (const DeclContext* dc = fd->getDeclContext(); dc; dc = dc->getParent()) {
    if (const auto* ns = dyn_cast<NamespaceDecl>(dc)) {
      if (ns->isInlineNamespace()) continue;
      name = (ns->isAnonymousNamespace() ? "(anonymous namespace)" : ns->getName().str()) + "::" + name;
    } else if (const auto* rd = dyn_cast<RecordDecl>(dc)) {
      name = rd->getNameAsString() + "::" + name;
    } else if (!isa<LinkageSpecDecl>(dc)) {
      break;
    }
  }
  return name;
}

const Stmt* parent_stmt(const Stmt* s, ASTContext& ctx) {
  DynTypedNode n = DynTypedNode::create(*s);
  for (;;) {
    n = first_parent(n, ctx);
    if (n.getNodeKind().isNone() || n.get<FunctionDecl>() || n.get<LambdaExpr>()) return nullptr;
    if (const auto* stmt = n.get<Stmt>()) return stmt;
    if (!n.get<Decl>()) return nullptr;
  }
}

const FunctionDecl* enclosing_function(const Stmt* s, ASTContext& ctx) {
  DynTypedNode n = DynTypedNode::create(*s);
  for (;;) {
    n = first_parent(n, ctx);
    if (n.getNodeKind().isNone()) return nullptr;
    if (const auto* lambda = n.get<LambdaExpr>()) return lambda->getCallOperator();
    if (const auto* fn = n.get<FunctionDecl>()) return fn;
  }
}

const LambdaExpr* enclosing_lambda(const Stmt* s, ASTContext& ctx) {
  DynTypedNode n = DynTypedNode::create(*s);
  bool in_call_operator = false;
  for (;;) {
    n = first_parent(n, ctx);
    if (n.getNodeKind().isNone()) return nullptr;
    if (const auto* lambda = n.get<LambdaExpr>()) return lambda;
    // A lambda body's parent may be its call operator, whose parent is the lambda (through
    // the closure class).
    if (const auto* method = n.get<CXXMethodDecl>(); method && method->getParent()->isLambda()) {
      if (in_call_operator) return nullptr;
      in_call_operator = true;
    } else if (n.get<FunctionDecl>()) {
      return nullptr;
    }
  }
}

DynTypedNode consumer(const Expr* e, ASTContext& ctx) {
  DynTypedNode n = DynTypedNode::create(*e);
  for (;;) {
    n = first_parent(n, ctx);
    const auto* p = n.get<Expr>();
    const auto* copy = dyn_cast_or_null<CXXConstructExpr>(p);
    if (!p || !(isa<ImplicitCastExpr>(p) || isa<MaterializeTemporaryExpr>(p) ||
                isa<CXXBindTemporaryExpr>(p) || isa<ExprWithCleanups>(p) || isa<ParenExpr>(p) ||
                isa<CXXFunctionalCastExpr>(p) || (copy && copy->getNumArgs() == 1))) {
      return n;
    }
  }
}

const CallExpr* call_taking(const LambdaExpr* lambda, ASTContext& ctx) {
  return consumer(lambda, ctx).get<CallExpr>();
}

bool is_discarded(const Expr* e, ASTContext& ctx) {
  const Stmt* p = consumer(e, ctx).get<Stmt>();
  if (!p || isa<Expr>(p) || isa<ReturnStmt>(p) || isa<CoreturnStmt>(p)) return false;
  const Expr* cond = nullptr;
  if (const auto* s = dyn_cast<IfStmt>(p)) cond = s->getCond();
  if (const auto* s = dyn_cast<SwitchStmt>(p)) cond = s->getCond();
  if (is_loop(p)) cond = loop_cond(p);
  return !cond || !contains(cond, e);
}

void for_each_stmt(const Stmt* root, llvm::function_ref<bool(const Stmt*)> f) {
  if (!root || !f(root)) return;
  for (const Stmt* child : root->children()) for_each_stmt(child, f);
}

const ValueDecl* named_decl(const Stmt* s) {
  if (const auto* ref = dyn_cast_or_null<DeclRefExpr>(s)) return ref->getDecl();
  if (const auto* member = dyn_cast_or_null<MemberExpr>(s)) return member->getMemberDecl();
  return nullptr;
}

bool names(const Expr* e, const ValueDecl* d) {
  const auto* ref = dyn_cast<DeclRefExpr>(e->IgnoreParenImpCasts());
  return ref && ref->getDecl() == d;
}

bool refers_to(const Stmt* root, const ValueDecl* d) {
  bool found = false;
  for_each_stmt(root, [&](const Stmt* s) {
    if (const auto* ref = dyn_cast<DeclRefExpr>(s); ref && ref->getDecl() == d) found = true;
    return !found;
  });
  return found;
}

bool contains(const Stmt* root, const Stmt* inner) {
  bool found = false;
  for_each_stmt(root, [&](const Stmt* s) {
    if (s == inner) found = true;
    return !found;
  });
  return found;
}

bool is_loop(const Stmt* s) {
  return isa_and_nonnull<ForStmt>(s) || isa_and_nonnull<WhileStmt>(s) ||
         isa_and_nonnull<DoStmt>(s) || isa_and_nonnull<CXXForRangeStmt>(s);
}

const Stmt* loop_body(const Stmt* loop) {
  if (const auto* f = dyn_cast<ForStmt>(loop)) return f->getBody();
  if (const auto* w = dyn_cast<WhileStmt>(loop)) return w->getBody();
  if (const auto* d = dyn_cast<DoStmt>(loop)) return d->getBody();
  if (const auto* r = dyn_cast<CXXForRangeStmt>(loop)) return r->getBody();
  return nullptr;
}

const Expr* loop_cond(const Stmt* loop) {
  if (const auto* f = dyn_cast<ForStmt>(loop)) return f->getCond();
  if (const auto* w = dyn_cast<WhileStmt>(loop)) return w->getCond();
  if (const auto* d = dyn_cast<DoStmt>(loop)) return d->getCond();
  return nullptr;
}

llvm::SmallVector<const Stmt*, 4> enclosing_loops(const Stmt* s, ASTContext& ctx) {
  llvm::SmallVector<const Stmt*, 4> loops;
  for (const Stmt* cur = s; cur;) {
    const Stmt* parent = parent_stmt(cur, ctx);
    if (parent && is_loop(parent) && loop_body(parent) == cur) loops.push_back(parent);
    cur = parent;
  }
  return loops;
}

}  // namespace gocxx::vet

// What the gocxx checks know about gocxx's API, in AST terms: which calls start a goroutine and
// with which lambda, which types are gocxx's channels and errors, and how to walk from a node to
// its parents and its enclosing function.
#pragma once

#include <optional>
#include <string>

#include "clang/AST/ASTContext.h"
#include "clang/AST/Expr.h"
#include "clang/AST/ExprCXX.h"
#include "clang/AST/Stmt.h"
#include "clang/ASTMatchers/ASTMatchers.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

namespace gocxx::vet {

// A call that starts a goroutine: gocxx::go, errgroup::Group::go / try_go, time::after_func,
// context::after_func.
struct Spawn {
  const clang::CallExpr* call = nullptr;
  // The goroutine's body when it is a lambda (written in the call, or in a local variable
  // initialized with one); nullptr for a function or another callable.
  const clang::LambdaExpr* lambda = nullptr;
  // errgroup::Group::go / try_go: the group, when it is a variable (or a structured binding).
  const clang::ValueDecl* group = nullptr;
  // How messages name the API: "gocxx::go", "errgroup::Group::go", ...
  llvm::StringRef api;
};
std::optional<Spawn> as_spawn(const clang::CallExpr* call);
// Matches the calls as_spawn accepts, bound to "call".
clang::ast_matchers::StatementMatcher spawn_call_matcher();

// The lambda an argument evaluates to, looking through conversions, temporaries, a
// std::function built from it, and a local variable initialized with it.
const clang::LambdaExpr* lambda_of(const clang::Expr* e);

// The class a type names, through references, cv and (when `through_pointers`) one pointer;
// nullptr if none. Class names are qualified, template specializations named by their
// template ("gocxx::Chan"), inline namespaces left out ("std::condition_variable").
const clang::CXXRecordDecl* record_of(clang::QualType t, bool through_pointers = false);
bool is_class(const clang::CXXRecordDecl* rd, llvm::StringRef qualified_name);
bool is_class(clang::QualType t, llvm::StringRef qualified_name);

// gocxx::Chan, RecvChan, SendChan.
bool is_channel(clang::QualType t);
// gocxx::error, or a result struct carrying one in a field named `err` (gocxx::Result<T>,
// net::HostPort, ...).
bool is_error_like(clang::QualType t);

// The variable (or structured binding) an object expression names: `x`, `x->` (a pointer or a
// smart pointer), `*x`, through parentheses and conversions. nullptr otherwise.
const clang::ValueDecl* object_decl(const clang::Expr* e);

// `s` as a call of a method named one of `names` on an object of one of `classes` (see
// is_class); nullptr otherwise.
const clang::CXXMemberCallExpr* method_call(const clang::Stmt* s,
                                            llvm::ArrayRef<llvm::StringRef> classes,
                                            llvm::ArrayRef<llvm::StringRef> names);
// A channel operation: send, recv or close on a Chan, RecvChan or SendChan.
const clang::CXXMemberCallExpr* channel_call(const clang::Stmt* s,
                                             llvm::ArrayRef<llvm::StringRef> names);

// The qualified name of a call's callee ("gocxx::time::sleep", "std::future::get": no template
// arguments, no inline namespaces), or "".
std::string callee_name(const clang::CallExpr* call);

// The nearest statement above `s`, looking through declarations (a VarDecl's initializer ->
// its DeclStmt); nullptr at a function or lambda boundary.
const clang::Stmt* parent_stmt(const clang::Stmt* s, clang::ASTContext& ctx);

// The function whose body contains `s` directly: a FunctionDecl, or a lambda's call operator
// (the body of a lambda is its own function). nullptr outside functions.
const clang::FunctionDecl* enclosing_function(const clang::Stmt* s, clang::ASTContext& ctx);
// The lambda whose body contains `s` directly (no function in between), or nullptr.
const clang::LambdaExpr* enclosing_lambda(const clang::Stmt* s, clang::ASTContext& ctx);
// The node that takes the value of `e`: its parent, above conversions, temporaries, parentheses
// and one-argument constructions (copies, std::function, std::thread).
clang::DynTypedNode consumer(const clang::Expr* e, clang::ASTContext& ctx);
// Is the value of `e` thrown away: is `e` a statement of its own (in a block, a branch, a loop
// body, a for's init or increment)? Not when it is a condition, returned, or an operand.
bool is_discarded(const clang::Expr* e, clang::ASTContext& ctx);
// The call that takes `lambda` as an argument (through conversions and std::function), or
// nullptr.
const clang::CallExpr* call_taking(const clang::LambdaExpr* lambda, clang::ASTContext& ctx);

// Calls `f` on `root` and every statement under it, in source order; `f` returns false to skip
// a node's children. Lambda bodies are entered.
void for_each_stmt(const clang::Stmt* root, llvm::function_ref<bool(const clang::Stmt*)> f);
// The declaration a DeclRefExpr or a MemberExpr names, or nullptr.
const clang::ValueDecl* named_decl(const clang::Stmt* s);
// Does `e` name `d`, through parentheses and implicit conversions?
bool names(const clang::Expr* e, const clang::ValueDecl* d);
// Is there a DeclRefExpr to `d` under `root`?
bool refers_to(const clang::Stmt* root, const clang::ValueDecl* d);
// Is `inner` under `root` (or `root` itself)?
bool contains(const clang::Stmt* root, const clang::Stmt* inner);

bool is_loop(const clang::Stmt* s);
const clang::Stmt* loop_body(const clang::Stmt* loop);
// A for, while or do loop's condition; nullptr for a range-for or a for without one.
const clang::Expr* loop_cond(const clang::Stmt* loop);
// The loops whose bodies contain `s`, innermost first, within its function.
llvm::SmallVector<const clang::Stmt*, 4> enclosing_loops(const clang::Stmt* s, clang::ASTContext& ctx);

}  // namespace gocxx::vet

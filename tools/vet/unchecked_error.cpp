// gocxx-unchecked-error: a gocxx::error, or a result struct carrying one in its `err` field
// (gocxx::Result<T>, net::HostPort, ...), that nobody checks (errcheck).
//
// Reported:
//   * a call returning one by value whose value is discarded: the call is a statement of its
//     own, or the left of a comma (not in the statement of GoogleTest's EXPECT_/ASSERT_ THROW,
//     DEATH and EXIT macros, which runs for its exception or exit);
//   * a local error, or the error binding of `auto [v, err] = call()`, that is never read
//     (assigning to it is not reading it; `(void)err` is): Go rejects this code ("declared and
//     not used"). A `[[maybe_unused]]` declaration is not reported;
//   * a local result struct initialized from a call whose `.err` is never read.
// The explicit discards, `(void)call()` and `call().value` (Go's `_ = f()` and `v, _ := f()`),
// are reported only with the option Blank (errcheck's -blank). The library's error-returning
// APIs are [[nodiscard]] too (gocxx::error and gocxx::Result are [[nodiscard]] types), so
// compilers warn about the first case as well.
#include "checks.hpp"
#include "gocxx_ast.hpp"
#include "joins.hpp"

#include "clang/AST/ParentMapContext.h"

using namespace clang;
using namespace clang::ast_matchers;

namespace gocxx::vet {
namespace {

TypeMatcher error_type() {
  auto gocxx_error =
      qualType(hasUnqualifiedDesugaredType(recordType(hasDeclaration(cxxRecordDecl(hasName("::gocxx::error"))))));
  return qualType(hasUnqualifiedDesugaredType(recordType(hasDeclaration(cxxRecordDecl(
      anyOf(hasName("::gocxx::error"), has(fieldDecl(hasName("err"), hasType(gocxx_error)))))))));
}

std::string call_name(const CallExpr* call) {
  std::string name = callee_name(call);
  return name.empty() ? "this call" : "'" + name + "'";
}


enum class Use { used, discarded, voided };

Use use_of(const CallExpr* call, ASTContext& ctx) {
  // EXPECT_THROW(g.wait(), E), EXPECT_EXIT(...): the statement runs for its exception or exit.
  const llvm::StringRef macro = outer_macro(call->getBeginLoc(), ctx);
  if ((macro.startswith("EXPECT_") || macro.startswith("ASSERT_")) &&
      (macro.contains("THROW") || macro.contains("DEATH") || macro.contains("EXIT"))) {
    return Use::used;
  }
  const DynTypedNode n = consumer(call, ctx);
  if (const auto* cast = n.get<ExplicitCastExpr>(); cast && cast->getType()->isVoidType()) {
    return Use::voided;
  }
  const auto* comma = n.get<BinaryOperator>();
  const bool comma_lhs = comma && comma->getOpcode() == BO_Comma && contains(comma->getLHS(), call);
  return comma_lhs || is_discarded(call, ctx) ? Use::discarded : Use::used;
}

// The index of the `err` field among a result struct's fields (a structured binding's order).
std::optional<unsigned> err_field_index(QualType t) {
  const CXXRecordDecl* rd = record_of(t);
  if (!rd || !rd->hasDefinition()) return std::nullopt;
  unsigned i = 0;
  for (const FieldDecl* f : rd->fields()) {
    if (f->getDeclName().isIdentifier() && f->getName() == "err") return i;
    ++i;
  }
  return std::nullopt;
}

// Is `d` read in `body`? Assignments to it and reads of a result's other fields do not count.
bool is_read(const Stmt* body, const ValueDecl* d, bool result_struct) {
  bool read = false;
  for_each_stmt(body, [&](const Stmt* s) {
    if (const auto* assign = dyn_cast<BinaryOperator>(s);
        assign && assign->getOpcode() == BO_Assign && names(assign->getLHS(), d)) {
      read = read || is_read(assign->getRHS(), d, result_struct);
      return false;
    }
    if (const auto* assign = dyn_cast<CXXOperatorCallExpr>(s);
        assign && assign->getOperator() == OO_Equal && names(assign->getArg(0), d)) {
      read = read || is_read(assign->getArg(1), d, result_struct);
      return false;
    }
    if (const auto* member = dyn_cast<MemberExpr>(s);
        member && result_struct && names(member->getBase(), d)) {
      const auto* field = dyn_cast<FieldDecl>(member->getMemberDecl());
      if (field && field->getName() != "err") return false;
    }
    if (const auto* ref = dyn_cast<DeclRefExpr>(s); ref && ref->getDecl() == d) read = true;
    return !read;
  });
  return read;
}

}  // namespace

UncheckedErrorCheck::UncheckedErrorCheck(llvm::StringRef name,
                                         clang::tidy::ClangTidyContext* context)
    : GocxxCheck(name, context), blank_(bool_option("Blank", false)) {}

void UncheckedErrorCheck::storeOptions(clang::tidy::ClangTidyOptions::OptionMap& options) {
  store_bool(options, "Blank", blank_);
}

void UncheckedErrorCheck::registerMatchers(MatchFinder* finder) {
  // Calls returning an error (or a result) by value: not operator=, which returns a reference.
  auto error_call = callExpr(hasType(error_type()), unless(callee(functionDecl(returns(referenceType())))));
  finder->addMatcher(
      traverse(TK_AsIs, callExpr(error_call, unless(isExpansionInSystemHeader())).bind("call")), this);
  // f().value: a result's other field read straight from the call (Go's `v, _ := f()`).
  if (blank_) finder->addMatcher(
      traverse(TK_AsIs,
               memberExpr(hasObjectExpression(ignoringImplicit(callExpr(error_call).bind("source"))),
                          member(fieldDecl(unless(hasName("err")))),
                          unless(isExpansionInSystemHeader()))
                   .bind("member")),
      this);
  finder->addMatcher(
      traverse(TK_AsIs, varDecl(hasLocalStorage(), hasType(error_type()),
                                hasInitializer(ignoringImplicit(callExpr().bind("source"))),
                                unless(hasAttr(attr::Unused)), unless(parmVarDecl()),
                                unless(isExpansionInSystemHeader()))
                            .bind("var")),
      this);
}

void UncheckedErrorCheck::check(const MatchFinder::MatchResult& result) {
  ASTContext& ctx = *result.Context;
  if (const auto* call = result.Nodes.getNodeAs<CallExpr>("call")) {
    const Use use = use_of(call, ctx);
    if (use == Use::discarded || (use == Use::voided && blank_)) {
      diag(call->getExprLoc(),
           "the error returned by %0 is %select{not checked (errcheck): handle it, or discard it "
           "explicitly with (void)|discarded with (void) (errcheck -blank)}1")
          << call_name(call) << (use == Use::voided);
    }
    return;
  }
  const auto* source = result.Nodes.getNodeAs<CallExpr>("source");
  if (const auto* member = result.Nodes.getNodeAs<MemberExpr>("member")) {
    diag(member->getMemberLoc(),
         "the error returned by %0 is dropped: only its %1 is read (errcheck -blank); keep the "
         "result and check its .err")
        << call_name(source) << member->getMemberDecl();
    return;
  }
  const auto* var = result.Nodes.getNodeAs<VarDecl>("var");
  const FunctionDecl* fn = dyn_cast_or_null<FunctionDecl>(var->getParentFunctionOrMethod());
  if (!fn || !fn->hasBody()) return;
  const ValueDecl* err = var;
  bool result_struct = !is_class(var->getType(), "gocxx::error");
  if (const auto* binding = dyn_cast<DecompositionDecl>(var)) {
    std::optional<unsigned> index = err_field_index(var->getType());
    if (!index || *index >= binding->bindings().size()) return;
    err = binding->bindings()[*index];
    result_struct = false;
  }
  if (is_read(fn->getBody(), err, result_struct)) return;
  diag(err->getLocation(),
       "%select{error %1 from %2 is never checked (errcheck; Go rejects this code: declared and "
       "not used)|the error in %1 from %2 is never checked: only its value is read (errcheck)}0")
      << result_struct << err << call_name(source);
}

}  // namespace gocxx::vet

// gocxx-blocking-call: a call that blocks the OS thread, made in a goroutine outside
// gocxx::blocking(...). The thread's P, and every goroutine queued on it, waits with it; Go's
// runtime parks the goroutine or hands the P off by itself, gocxx only when told.
//
// "In a goroutine": lexically in a lambda passed to gocxx::go, errgroup::Group::go/try_go,
// time::after_func, context::after_func, gocxx::run (the main goroutine) or an http handler
// (ServeMux::handle_func, http::handle_func), or in a lambda that such a lambda runs in place
// (gocxx::func, std::invoke, a call of the lambda itself). A lambda passed to anything else
// (std::thread, a user function) ends the search, and so does gocxx::blocking (exempt).
//
// The list: option BlockingFunctions replaces the default below, ExtraBlockingFunctions adds to
// it; entries are `qualified::name` or `qualified::name=replacement` separated by ';'. A lock
// guard (std::lock_guard, unique_lock, scoped_lock, shared_lock) over a mutex M counts as a
// call to M::lock (M::lock_shared for shared_lock) unless it defers, tries or adopts.
//
// Fix-its: std::this_thread::sleep_for(d) -> gocxx::time::sleep(d) (an integral duration no
// finer than nanoseconds); ::sleep(n) / ::usleep(n) as statements -> gocxx::time::sleep(...);
// calls with a gocxx::blocking replacement -> gocxx::blocking([&]() -> decltype(auto) { return
// call; }). Each only when the TU declares the function the fix calls.
#include "checks.hpp"
#include "gocxx_ast.hpp"
#include "joins.hpp"

#include "clang/AST/ParentMapContext.h"
#include "clang/AST/TemplateBase.h"
#include "clang/Lex/Lexer.h"
#include "llvm/ADT/StringExtras.h"

using namespace clang;
using namespace clang::ast_matchers;

namespace gocxx::vet {
namespace {

constexpr const char* kBlocking = "gocxx::blocking(...)";
constexpr const char* kSleep = "gocxx::time::sleep";
constexpr const char* kMutex = "gocxx::sync::Mutex";
constexpr const char* kSyscall = "gocxx::net for sockets, or gocxx::blocking(...)";

const std::pair<const char*, const char*> kDefaultList[] = {
    {"std::this_thread::sleep_for", kSleep},
    {"std::this_thread::sleep_until", kSleep},
    {"::sleep", kSleep},
    {"::usleep", kSleep},
    {"::nanosleep", kSleep},
    {"std::mutex::lock", kMutex},
    {"std::recursive_mutex::lock", kMutex},
    {"std::timed_mutex::lock", kMutex},
    {"std::shared_mutex::lock", "gocxx::sync::RWMutex"},
    {"std::shared_mutex::lock_shared", "gocxx::sync::RWMutex"},
    {"::pthread_mutex_lock", kMutex},
    {"std::condition_variable::wait", "gocxx::sync::Cond or a gocxx::Chan"},
    {"std::condition_variable::wait_for", "a select on a gocxx::Chan and gocxx::time::after"},
    {"std::condition_variable::wait_until", "a select on a gocxx::Chan and gocxx::time::after"},
    {"std::condition_variable_any::wait", "gocxx::sync::Cond or a gocxx::Chan"},
    {"std::future::get", "a gocxx::Chan, or gocxx::blocking(...)"},
    {"std::future::wait", "a gocxx::Chan, or gocxx::blocking(...)"},
    {"std::shared_future::get", "a gocxx::Chan, or gocxx::blocking(...)"},
    {"std::shared_future::wait", "a gocxx::Chan, or gocxx::blocking(...)"},
    {"std::thread::join", "gocxx::sync::WaitGroup, or gocxx::blocking(...)"},
    {"::pthread_join", kBlocking},
    {"std::counting_semaphore::acquire", "a buffered gocxx::Chan"},
    {"std::latch::wait", "gocxx::sync::WaitGroup"},
    {"std::latch::arrive_and_wait", "gocxx::sync::WaitGroup"},
    {"std::barrier::arrive_and_wait", "gocxx::sync::WaitGroup"},
    {"::sem_wait", "a buffered gocxx::Chan"},
    {"::read", kSyscall},
    {"::write", kSyscall},
    {"::pread", kBlocking},
    {"::pwrite", kBlocking},
    {"::readv", kSyscall},
    {"::writev", kSyscall},
    {"::recv", kSyscall},
    {"::send", kSyscall},
    {"::recvfrom", kSyscall},
    {"::sendto", kSyscall},
    {"::recvmsg", kSyscall},
    {"::sendmsg", kSyscall},
    {"::accept", kSyscall},
    {"::accept4", kSyscall},
    {"::connect", kSyscall},
    {"::poll", kSyscall},
    {"::ppoll", kSyscall},
    {"::select", kSyscall},
    {"::epoll_wait", kSyscall},
    {"::fsync", kBlocking},
    {"::fdatasync", kBlocking},
    {"::flock", kBlocking},
    {"::waitpid", kBlocking},
    {"::wait", kBlocking},
    {"::system", kBlocking},
    {"::getaddrinfo", "gocxx::net::lookup_host"},
    {"::gethostbyname", "gocxx::net::lookup_host"},
};

std::string default_list() {
  std::string list;
  for (const auto& [name, replacement] : kDefaultList) {
    list += std::string(list.empty() ? "" : ";") + name + "=" + replacement;
  }
  return list;
}

// Where a lambda's code runs, as far as this check can tell.
enum class Runs { in_goroutine, in_place, exempt, elsewhere };

Runs where_runs(const LambdaExpr* lambda, ASTContext& ctx, std::string& entry) {
  const auto* call = consumer(lambda, ctx).get<CallExpr>();
  if (!call) return Runs::elsewhere;  // std::thread, a variable, a callable object
  const auto* method = dyn_cast_or_null<CXXMethodDecl>(call->getDirectCallee());
  if (method && method->getParent()->isLambda()) return Runs::in_place;  // [&] { ... }()
  std::optional<Spawn> spawn = as_spawn(call);
  entry = spawn ? spawn->api.str() : callee_name(call);
  if (spawn || entry == "gocxx::run" || entry == "gocxx::http::handle_func" ||
      entry == "gocxx::http::ServeMux::handle_func") {
    return Runs::in_goroutine;
  }
  if (entry == "gocxx::blocking") return Runs::exempt;
  return entry == "gocxx::func" || entry == "std::invoke" ? Runs::in_place : Runs::elsewhere;
}

// The goroutine entry `s` runs under ("gocxx::go", ...), or "" when it does not run in one.
std::string goroutine_of(const Stmt* s, ASTContext& ctx) {
  for (const LambdaExpr* lambda = enclosing_lambda(s, ctx); lambda;
       lambda = enclosing_lambda(lambda, ctx)) {
    std::string entry;
    switch (where_runs(lambda, ctx, entry)) {
      case Runs::in_goroutine: return entry;
      case Runs::in_place: continue;
      case Runs::exempt:
      case Runs::elsewhere: return "";
    }
  }
  return "";
}

// Does the translation unit declare `qualified` (a namespace-scope function, "a::b::f")?
bool declared(ASTContext& ctx, llvm::StringRef qualified) {
  const DeclContext* dc = ctx.getTranslationUnitDecl();
  llvm::SmallVector<llvm::StringRef, 4> parts;
  qualified.split(parts, "::");
  for (size_t i = 0; i < parts.size(); ++i) {
    auto found = dc->lookup(&ctx.Idents.get(parts[i]));
    if (found.empty()) return false;
    if (i + 1 == parts.size()) return true;
    dc = dyn_cast<NamespaceDecl>(found.front());
    if (!dc) return false;
  }
  return false;
}

// std::chrono::duration<Rep, Period> converts to nanoseconds implicitly: an integral Rep and a
// Period that is a whole number of nanoseconds.
bool converts_to_nanoseconds(QualType t) {
  const auto* spec = dyn_cast_or_null<ClassTemplateSpecializationDecl>(record_of(t));
  if (!spec || !is_class(spec, "std::chrono::duration")) return false;
  const TemplateArgumentList& args = spec->getTemplateArgs();
  if (args.size() != 2 || !args[0].getAsType()->isIntegralType(spec->getASTContext())) return false;
  const auto* ratio = dyn_cast_or_null<ClassTemplateSpecializationDecl>(record_of(args[1].getAsType()));
  if (!ratio || ratio->getTemplateArgs().size() != 2) return false;
  const llvm::APSInt num = ratio->getTemplateArgs()[0].getAsIntegral();
  const llvm::APSInt den = ratio->getTemplateArgs()[1].getAsIntegral();
  return (num.getExtValue() * 1000000000LL) % den.getExtValue() == 0;
}

}  // namespace

BlockingCallCheck::BlockingCallCheck(llvm::StringRef name, clang::tidy::ClangTidyContext* context)
    : GocxxCheck(name, context),
      blocking_(Options.get("BlockingFunctions", default_list())),
      extra_(Options.get("ExtraBlockingFunctions", "")) {
  for (const std::string& item : split_list(blocking_ + ";" + extra_)) {
    auto [name, replacement] = llvm::StringRef(item).split('=');
    if (name.trim().empty()) continue;
    std::string qualified = name.trim().str();
    if (!llvm::StringRef(qualified).startswith("::")) qualified = "::" + qualified;
    entries_.push_back({qualified, replacement.trim().empty() ? kBlocking : replacement.trim().str()});
  }
}

void BlockingCallCheck::storeOptions(clang::tidy::ClangTidyOptions::OptionMap& options) {
  Options.store(options, "BlockingFunctions", blocking_);
  Options.store(options, "ExtraBlockingFunctions", extra_);
}

void BlockingCallCheck::registerMatchers(MatchFinder* finder) {
  // By unqualified name: hasName spells a class template's arguments (std::future<int>::get);
  // check() compares the qualified name without them.
  std::vector<llvm::StringRef> names;
  for (const auto& entry : entries_) names.push_back(llvm::StringRef(entry.first).rsplit("::").second);
  finder->addMatcher(
      traverse(TK_AsIs, callExpr(callee(functionDecl(hasAnyName(names))),
                                 unless(isExpansionInSystemHeader()))
                            .bind("call")),
      this);
  finder->addMatcher(
      traverse(TK_AsIs, cxxConstructExpr(hasType(cxxRecordDecl(hasAnyName(
                                             "::std::lock_guard", "::std::unique_lock",
                                             "::std::scoped_lock", "::std::shared_lock"))),
                                         unless(isExpansionInSystemHeader()))
                            .bind("guard")),
      this);
}

void BlockingCallCheck::check(const MatchFinder::MatchResult& result) {
  ASTContext& ctx = *result.Context;
  const auto* call = result.Nodes.getNodeAs<CallExpr>("call");
  const auto* guard = result.Nodes.getNodeAs<CXXConstructExpr>("guard");
  const Stmt* site = call ? static_cast<const Stmt*>(call) : guard;
  std::string name = call ? "::" + callee_name(call) : "";
  if (guard) {
    // The guard's mutex types: lock_guard<std::mutex> locks std::mutex::lock.
    const auto* spec = dyn_cast_or_null<ClassTemplateSpecializationDecl>(record_of(guard->getType()));
    if (!spec) return;
    for (const Expr* arg : guard->arguments()) {
      const CXXRecordDecl* tag = record_of(arg->getType());
      if (tag && (tag->getName() == "defer_lock_t" || tag->getName() == "try_to_lock_t" ||
                  tag->getName() == "adopt_lock_t")) {
        return;
      }
    }
    const bool shared = is_class(spec, "std::shared_lock");
    for (const TemplateArgument& arg : spec->getTemplateArgs().asArray()) {
      auto types = arg.getKind() == TemplateArgument::Pack ? arg.getPackAsArray()
                                                           : llvm::makeArrayRef(arg);
      for (const TemplateArgument& t : types) {
        const CXXRecordDecl* mutex = t.getKind() == TemplateArgument::Type ? record_of(t.getAsType()) : nullptr;
        if (mutex) name = "::" + mutex->getQualifiedNameAsString() + (shared ? "::lock_shared" : "::lock");
      }
    }
  }
  auto found = llvm::find_if(entries_, [&](const auto& e) { return e.first == name; });
  if (found == entries_.end()) return;
  const std::string entry = goroutine_of(site, ctx);
  if (entry.empty()) return;
  const std::string shown = name.substr(2);
  const std::string& replacement = found->second;

  auto diagnostic =
      diag(site->getBeginLoc(),
           "'%0' blocks the OS thread in a goroutine (started by %1), stalling the goroutines "
           "queued on its P; use %2 instead (no vet analyzer: Go's runtime parks the goroutine "
           "itself)")
      << shown << entry << replacement;
  if (!call || call->getBeginLoc().isMacroID() || call->getEndLoc().isMacroID()) return;
  const SourceManager& sm = *result.SourceManager;
  const LangOptions& lang = ctx.getLangOpts();
  const CharSourceRange whole = CharSourceRange::getTokenRange(call->getSourceRange());
  if (shown == "std::this_thread::sleep_for" && call->getNumArgs() == 1 &&
      converts_to_nanoseconds(call->getArg(0)->getType()) && declared(ctx, kSleep)) {
    diagnostic << FixItHint::CreateReplacement(
        CharSourceRange::getTokenRange(call->getCallee()->getSourceRange()), kSleep);
  } else if ((shown == "sleep" || shown == "usleep") && call->getNumArgs() == 1 &&
             is_discarded(call, ctx) && declared(ctx, kSleep)) {
    const std::string arg = Lexer::getSourceText(
        CharSourceRange::getTokenRange(call->getArg(0)->getSourceRange()), sm, lang).str();
    diagnostic << FixItHint::CreateReplacement(
        whole, std::string(kSleep) + "(std::chrono::" +
                   (shown == "sleep" ? "seconds" : "microseconds") + "(" + arg + "))");
  } else if (replacement.find("gocxx::blocking") != std::string::npos &&
             declared(ctx, "gocxx::blocking")) {
    diagnostic << FixItHint::CreateInsertion(call->getBeginLoc(),
                                             "gocxx::blocking([&]() -> decltype(auto) { return ")
               << FixItHint::CreateInsertion(
                      Lexer::getLocForEndOfToken(call->getEndLoc(), 0, sm, lang), "; })");
  }
}

}  // namespace gocxx::vet

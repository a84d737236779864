// libgocxx-tidy.so: the gocxx-* checks as a clang-tidy plugin.
//   clang-tidy-14 --load=libgocxx-tidy.so -checks='-*,gocxx-*' -p build/release file.cpp
// or tools/vet/gocxx-vet. Built against LLVM 14 only: clang-tidy loads a plugin into its own
// process, so the plugin must use the same major version's AST and check interfaces.
#include "checks.hpp"
#include "joins.hpp"

#include "clang-tidy/ClangTidyModule.h"
#include "clang-tidy/ClangTidyModuleRegistry.h"

namespace gocxx::vet {

bool GocxxCheck::bool_option(llvm::StringRef name, bool fallback) const {
  const std::string value = llvm::StringRef(Options.get(name, fallback ? "true" : "false")).lower();
  return value == "true" || value == "1" || value == "on";
}

void GocxxCheck::store_bool(clang::tidy::ClangTidyOptions::OptionMap& options, llvm::StringRef name,
                            bool value) const {
  Options.store(options, name, value ? "true" : "false");
}

JoiningCheck::JoiningCheck(llvm::StringRef name, clang::tidy::ClangTidyContext* context)
    : GocxxCheck(name, context),
      join_option_(Options.getLocalOrGlobal("JoinFunctions", kDefaultJoinFunctions)),
      join_functions_(split_list(join_option_)) {}

void JoiningCheck::storeOptions(clang::tidy::ClangTidyOptions::OptionMap& options) {
  Options.store(options, "JoinFunctions", join_option_);
}

namespace {

class GocxxModule : public clang::tidy::ClangTidyModule {
 public:
  void addCheckFactories(clang::tidy::ClangTidyCheckFactories& factories) override {
    factories.registerCheck<GoCaptureRefCheck>("gocxx-go-capture-ref");
    factories.registerCheck<LostCancelCheck>("gocxx-lost-cancel");
    factories.registerCheck<UncheckedErrorCheck>("gocxx-unchecked-error");
    factories.registerCheck<BlockingCallCheck>("gocxx-blocking-call");
    factories.registerCheck<SelectDefaultSpinCheck>("gocxx-select-default-spin");
    factories.registerCheck<ChanCloseByReceiverCheck>("gocxx-chan-close-by-receiver");
    factories.registerCheck<WaitGroupAddCheck>("gocxx-waitgroup-add-in-goroutine");
  }
};

clang::tidy::ClangTidyModuleRegistry::Add<GocxxModule> registration(
    "gocxx-module", "gocxx: Go's vet, errcheck and staticcheck checks for gocxx code");

}  // namespace
}  // namespace gocxx::vet

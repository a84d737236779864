// The gocxx-* clang-tidy checks, registered in module.cpp, one file each. docs/vet.md says what
// each one finds and which Go analyzer it mirrors.
#pragma once

#include <string>
#include <vector>

#include "clang-tidy/ClangTidyCheck.h"

namespace gocxx::vet {

using clang::ast_matchers::MatchFinder;

class GocxxCheck : public clang::tidy::ClangTidyCheck {
 public:
  using ClangTidyCheck::ClangTidyCheck;
  bool isLanguageVersionSupported(const clang::LangOptions& lang) const override {
    return lang.CPlusPlus;
  }

 protected:
  // Boolean options, read and written as strings: clang-tidy-14's OptionsView::get<bool> is a
  // template whose mangled name GCC and Clang spell differently, so the plugin (built by the
  // project's compiler) could not link against clang-tidy's copy.
  bool bool_option(llvm::StringRef name, bool fallback) const;
  void store_bool(clang::tidy::ClangTidyOptions::OptionMap& options, llvm::StringRef name,
                  bool value) const;
};

// A check that asks whether goroutines are joined (joins.hpp). Option JoinFunctions (also
// global): functions that wait for every goroutine.
class JoiningCheck : public GocxxCheck {
 public:
  JoiningCheck(llvm::StringRef name, clang::tidy::ClangTidyContext* context);
  void storeOptions(clang::tidy::ClangTidyOptions::OptionMap& options) override;

 protected:
  const std::vector<std::string>& join_functions() const { return join_functions_; }

 private:
  std::string join_option_;
  std::vector<std::string> join_functions_;
};

// gocxx-go-capture-ref: go vet's loopclosure, and by-reference captures that outlive their
// variable.
class GoCaptureRefCheck : public JoiningCheck {
 public:
  using JoiningCheck::JoiningCheck;
  void registerMatchers(MatchFinder* finder) override;
  void check(const MatchFinder::MatchResult& result) override;
};

// gocxx-lost-cancel: go vet's lostcancel. Option EscapingOnly (default true): report only
// contexts that may outlive the function (false: every forgotten cancel, as Go does).
class LostCancelCheck : public JoiningCheck {
 public:
  LostCancelCheck(llvm::StringRef name, clang::tidy::ClangTidyContext* context);
  void registerMatchers(MatchFinder* finder) override;
  void check(const MatchFinder::MatchResult& result) override;
  void storeOptions(clang::tidy::ClangTidyOptions::OptionMap& options) override;

 private:
  bool escaping_only_;
};

// gocxx-unchecked-error: errcheck. Option Blank (default false, errcheck's -blank): also
// report `(void)call()` and `call().value`, the explicit discards.
class UncheckedErrorCheck : public GocxxCheck {
 public:
  UncheckedErrorCheck(llvm::StringRef name, clang::tidy::ClangTidyContext* context);
  void registerMatchers(MatchFinder* finder) override;
  void check(const MatchFinder::MatchResult& result) override;
  void storeOptions(clang::tidy::ClangTidyOptions::OptionMap& options) override;

 private:
  bool blank_;
};

// gocxx-blocking-call: calls that block the OS thread, in a goroutine. Options:
// BlockingFunctions (replaces the default list), ExtraBlockingFunctions (adds to it); each a
// ';'-separated list of `qualified::name` or `qualified::name=replacement`.
class BlockingCallCheck : public GocxxCheck {
 public:
  BlockingCallCheck(llvm::StringRef name, clang::tidy::ClangTidyContext* context);
  void registerMatchers(MatchFinder* finder) override;
  void check(const MatchFinder::MatchResult& result) override;
  void storeOptions(clang::tidy::ClangTidyOptions::OptionMap& options) override;

 private:
  std::string blocking_, extra_;
  std::vector<std::pair<std::string, std::string>> entries_;  // name, replacement
};

// gocxx-select-default-spin: staticcheck SA5004.
class SelectDefaultSpinCheck : public GocxxCheck {
 public:
  using GocxxCheck::GocxxCheck;
  void registerMatchers(MatchFinder* finder) override;
  void check(const MatchFinder::MatchResult& result) override;
};

// gocxx-chan-close-by-receiver: Go's rule that only a sender closes a channel.
class ChanCloseByReceiverCheck : public JoiningCheck {
 public:
  using JoiningCheck::JoiningCheck;
  void registerMatchers(MatchFinder* finder) override;
  void check(const MatchFinder::MatchResult& result) override;
};

// gocxx-waitgroup-add-in-goroutine: staticcheck SA2000.
class WaitGroupAddCheck : public GocxxCheck {
 public:
  using GocxxCheck::GocxxCheck;
  void registerMatchers(MatchFinder* finder) override;
  void check(const MatchFinder::MatchResult& result) override;
};

}  // namespace gocxx::vet

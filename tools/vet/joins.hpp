// The "provably waits" rule: does the code that started a goroutine wait for it to finish
// before a given point? gocxx-go-capture-ref asks it about the end of a captured variable's
// scope, gocxx-chan-close-by-receiver about a close, gocxx-lost-cancel about the function's end.
//
// A statement JOINS the goroutine started by a spawn S (whose body is a lambda L) when it
// contains, unconditionally (not under an if/else branch, ?:, the right of && or ||, nor in a
// lambda other than one passed to gocxx::func or gocxx::blocking):
//   * `w.wait()` on a gocxx::sync::WaitGroup variable w on which L calls `w.done()`;
//   * `g.wait()` on the errgroup::Group variable g that S is `g.go(...)` / `g.try_go(...)` on;
//   * a receive from a channel variable c on which L sends or which L closes: `c.recv()` or a
//     range-for over c. When S is in a loop (several goroutines), the receive must be in a loop
//     too, or be a range-for (the count is not compared);
//   * a loop whose condition reads a variable that L's last statement writes (`while
//     (!finished) yield();` after `finished = true` ends L);
//   * a call of a function that waits for every goroutine: the option JoinFunctions (';'-
//     separated qualified names; default gocxx::leakcheck::verify_none, which returns only once
//     no goroutine is left).
// The variables are matched by declaration (a lambda's copy of a handle refers to the same
// declaration), so a handle reached another way (a member, an init-capture) is not recognized.
//
// One step of transitivity is followed: a statement also joins S when it joins another
// goroutine H started by the same function (by the rules above) whose body joins S, as a
// statement of H's body (workers that range over the channel S closes, joined by the spawner's
// range over the channel the workers send on).
//
// A join ahead of a point counts when it is reached from S on every path the rule follows:
// walking up from S, statement by statement through the enclosing blocks, the first joining
// statement must come before any `return`, `goto`, `co_return` or `throw` (which leave the
// function) and before a `break`/`continue` that leaves the block (the walk resumes after the
// loop). Exceptions thrown by calls and panics are not followed, nor is the return of a failing
// GoogleTest ASSERT_* (it ends a failed test); the statement given to EXPECT_/ASSERT_ macros
// (EXPECT_NO_THROW(stmt)) counts as run. Whether `done()`, the send or the write is L's last
// use of its captures is not checked.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "clang/AST/ASTContext.h"
#include "clang/AST/Stmt.h"
#include "llvm/ADT/SmallPtrSet.h"

#include "gocxx_ast.hpp"

namespace gocxx::vet {

// The JoinFunctions option's default.
inline constexpr const char* kDefaultJoinFunctions = "gocxx::leakcheck::verify_none";

class JoinFinder {
 public:
  // `join_all`: the JoinFunctions option, split.
  JoinFinder(const Spawn& spawn, clang::ASTContext& ctx, llvm::ArrayRef<std::string> join_all,
             bool transitive = true);

  // Is the goroutine joined after S and before control leaves `scope` (an ancestor of S)?
  // With `stop`, a statement containing `stop` ends the search first (joined before `stop`).
  bool joined_in(const clang::Stmt* scope, const clang::Stmt* stop = nullptr) const;
  // Is the goroutine joined ahead of `point` within `body` (a function body containing it)?
  // Only statements that start after S count.
  bool joined_ahead_of(const clang::Stmt* point, const clang::Stmt* body) const;

 private:
  void find_joiners();
  bool is_join(const clang::Stmt* s, bool need_loop) const;
  bool join_in(const clang::Stmt* s, bool need_loop, bool in_loop) const;

  Spawn spawn_;
  clang::ASTContext& ctx_;
  llvm::ArrayRef<std::string> join_all_;
  // What L does that a join can wait for.
  llvm::SmallPtrSet<const clang::ValueDecl*, 4> done_;       // WaitGroups L calls done() on
  llvm::SmallPtrSet<const clang::ValueDecl*, 4> signalled_;  // channels L sends on or closes
  llvm::SmallPtrSet<const clang::ValueDecl*, 4> last_written_;  // by L's last statement
  // The other goroutines of the spawning function whose bodies join this one, and whether
  // each was started in a loop.
  std::vector<std::pair<std::unique_ptr<JoinFinder>, bool>> joiners_;
};

// Splits a ';'-separated option value.
std::vector<std::string> split_list(llvm::StringRef list);

// How a statement may leave the block it is in, without following calls. With `ctx`, the
// returns of GoogleTest's ASSERT_* macros are not counted.
enum class Jump { none, block, function };
Jump jump_in(const clang::Stmt* s, const clang::ASTContext* ctx = nullptr);

// The name of the outermost macro whose expansion `loc` is in ("ASSERT_EQ"), or "".
llvm::StringRef outer_macro(clang::SourceLocation loc, const clang::ASTContext& ctx);

}  // namespace gocxx::vet

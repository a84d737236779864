// gocxx::error and gocxx::errors — Go's error values.
//
// An `error` is a nullable handle to an immutable error object (nil when empty), like Go's
// `error` interface. Sentinel errors compare by identity (`err == context::canceled`);
// `errors::is` follows wrapped causes (Go's `%w`), and `errors::as<T>` finds a custom type.
//
//   gocxx::error err = gocxx::errors::make("disk full");
//   if (err) std::cout << err.message();
//   auto wrapped = gocxx::errors::wrap(err, "saving config");   // "saving config: disk full"
//   gocxx::errors::is(wrapped, err);                            // true
//
// Custom error types derive from gocxx::ErrorBase and are made with errors::make_as<T>(...).
#pragma once

#include <memory>
#include <ostream>
#include <string>
#include <utility>

namespace gocxx {

// The interface every error object implements (Go's Error() and Unwrap()).
class ErrorBase {
 public:
  virtual ~ErrorBase() = default;
  virtual std::string message() const = 0;
};

// [[nodiscard]]: a function returning an error by value (conn.close(), g.wait(), ...) warns
// when the caller ignores it (errcheck); `(void)f()` says the error is ignored on purpose.
class [[nodiscard]] error {
 public:
  error() = default;
  error(std::nullptr_t) {}
  explicit error(std::shared_ptr<const ErrorBase> rep) : rep_(std::move(rep)) {}

  explicit operator bool() const { return rep_ != nullptr; }
  // Go's err.Error(); "<nil>" for a nil error, as fmt prints it.
  std::string message() const { return rep_ ? rep_->message() : "<nil>"; }
  const ErrorBase* get() const { return rep_.get(); }

  // Identity, as Go compares error interface values holding pointers.
  friend bool operator==(const error& a, const error& b) { return a.rep_ == b.rep_; }
  friend std::ostream& operator<<(std::ostream& out, const error& e) { return out << e.message(); }

 private:
  std::shared_ptr<const ErrorBase> rep_;
};

// A value and an error, as Go functions return them: `auto [n, err] = conn.read(buf);`.
// Where err is not nil, value is what the operation produced before failing (bytes already
// transferred for reads and writes; an empty value otherwise).
template <class T>
struct [[nodiscard]] Result {
  T value{};
  error err;
};

// An error that wraps another (Go's Unwrap() error).
class WrappingError : public ErrorBase {
 public:
  virtual error unwrap() const = 0;
};

namespace errors {

// Go's errors.New.
error make(std::string message);

// Go's fmt.Errorf("<context>: %w", cause). A nil cause gives a nil error.
error wrap(error cause, std::string context);

// Makes an error of a custom type T (derived from ErrorBase).
template <class T, class... Args>
error make_as(Args&&... args) {
  return error(std::make_shared<const T>(std::forward<Args>(args)...));
}

// Go's errors.Unwrap: the wrapped cause, or nil.
error unwrap(const error& err);

// Go's errors.Is: err or any error it wraps is `target`.
bool is(const error& err, const error& target);

// Go's errors.As: the first error in the chain of type T, or nullptr.
template <class T>
const T* as(const error& err) {
  for (error e = err; e; e = unwrap(e)) {
    if (auto* t = dynamic_cast<const T*>(e.get())) return t;
  }
  return nullptr;
}

}  // namespace errors
}  // namespace gocxx

// gocxx::errors: plain and wrapping error values.
#include "gocxx/errors.hpp"

namespace gocxx::errors {

namespace {

class PlainError final : public ErrorBase {
 public:
  explicit PlainError(std::string message) : message_(std::move(message)) {}
  std::string message() const override { return message_; }

 private:
  std::string message_;
};

class ContextError final : public WrappingError {
 public:
  ContextError(error cause, std::string context)
      : cause_(std::move(cause)), context_(std::move(context)) {}
  std::string message() const override { return context_ + ": " + cause_.message(); }
  error unwrap() const override { return cause_; }

 private:
  error cause_;
  std::string context_;
};

}  // namespace

error make(std::string message) { return make_as<PlainError>(std::move(message)); }

error wrap(error cause, std::string context) {
  if (!cause) return nullptr;
  return make_as<ContextError>(std::move(cause), std::move(context));
}

error unwrap(const error& err) {
  auto* w = dynamic_cast<const WrappingError*>(err.get());
  return w ? w->unwrap() : nullptr;
}

bool is(const error& err, const error& target) {
  for (error e = err; e; e = unwrap(e)) {
    if (e == target) return true;
  }
  return !err && !target;
}

}  // namespace gocxx::errors

// gocxx::os — the parts of Go's package os that network code needs: ErrDeadlineExceeded and the
// system-call error types (os.SyscallError, syscall.Errno).
#pragma once

#include <string>

#include "gocxx/errors.hpp"

namespace gocxx::os {

// The error type of err_deadline_exceeded; timeout() is true, as Go's net.Error.Timeout().
class DeadlineExceededError final : public ErrorBase {
 public:
  std::string message() const override { return "i/o timeout"; }
  bool timeout() const { return true; }
};

// Go's os.ErrDeadlineExceeded: an I/O call ran past its deadline ("i/o timeout").
inline const error err_deadline_exceeded = errors::make_as<DeadlineExceededError>();

// Go's syscall.Errno: a Linux errno with Go's text ("connection refused", "too many open
// files"). errors::as<os::Errno>(err) finds it inside any wrapped network error.
class Errno final : public ErrorBase {
 public:
  explicit Errno(int code) : code(code) {}
  std::string message() const override;
  bool timeout() const;    // EAGAIN, EWOULDBLOCK, ETIMEDOUT
  bool temporary() const;  // EINTR, EMFILE, ENFILE, ECONNRESET, ECONNABORTED, or timeout()
  int code;
};

// Go's os.SyscallError: "<syscall>: <errno text>" ("connect: connection refused").
class SyscallError final : public WrappingError {
 public:
  SyscallError(std::string syscall, error err) : syscall(std::move(syscall)), err(std::move(err)) {}
  std::string message() const override { return syscall + ": " + err.message(); }
  gocxx::error unwrap() const override { return err; }
  std::string syscall;
  gocxx::error err;
};

// An Errno error for `code`; with a syscall name, wrapped in a SyscallError (Go's
// os.NewSyscallError).
error errno_error(int code);
error syscall_error(std::string syscall, int code);

// The errno inside err (an Errno anywhere in its chain), or 0.
int errno_of(const error& err);

}  // namespace gocxx::os

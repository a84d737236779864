// gocxx::net's error types (net.hpp, os.hpp): Go's syscall.Errno text, os.SyscallError, and
// net.OpError's message and time-out test.
#include <cerrno>
#include <cstring>
#include <string>

#include "gocxx/context.hpp"
#include "gocxx/net.hpp"
#include "gocxx/os.hpp"

namespace gocxx::os {
namespace {

// strerror_r comes in two shapes: GNU's returns the message (maybe not in buf), POSIX's fills
// buf and returns 0.
[[maybe_unused]] const char* strerror_text(const char* gnu, const char* /*buf*/) { return gnu; }
[[maybe_unused]] const char* strerror_text(int posix, const char* buf) {
  return posix == 0 ? buf : "";
}

}  // namespace

// Go's syscall.Errno.Error(): its table is the C library's messages with the first letter
// lowercased ("connection refused"; an acronym such as "RFS" stays), and "errno N" for a
// number it has no message for. (glibc's text differs from Go's in one case: ESTALE is
// "stale file handle", Go's "stale NFS file handle".)
std::string Errno::message() const {
  if (code <= 0) return "errno " + std::to_string(code);
  char buf[256] = {};
  std::string msg = strerror_text(strerror_r(code, buf, sizeof buf), buf);
  if (msg.empty() || msg.rfind("Unknown error", 0) == 0) return "errno " + std::to_string(code);
  auto upper = [](char c) { return c >= 'A' && c <= 'Z'; };
  if (upper(msg[0]) && !(msg.size() > 1 && upper(msg[1]))) {
    msg[0] = static_cast<char>(msg[0] - 'A' + 'a');
  }
  return msg;
}

// Go's Errno.Timeout.
bool Errno::timeout() const { return code == EAGAIN || code == EWOULDBLOCK || code == ETIMEDOUT; }

// Go's Errno.Temporary, plus the connection errors Go's accept loop retries (os.hpp).
bool Errno::temporary() const {
  return code == EINTR || code == EMFILE || code == ENFILE || code == ECONNRESET ||
         code == ECONNABORTED || timeout();
}

error errno_error(int code) { return errors::make_as<Errno>(code); }

error syscall_error(std::string syscall, int code) {
  return errors::make_as<SyscallError>(std::move(syscall), errno_error(code));
}

int errno_of(const error& err) {
  const auto* e = errors::as<Errno>(err);
  return e != nullptr ? e->code : 0;
}

}  // namespace gocxx::os

namespace gocxx::net {

// Go's OpError.Error: "op net source->addr: err", leaving out what is not set.
std::string OpError::message() const {
  std::string s = op;
  if (!net.empty()) s += " " + net;
  if (source) s += " " + source.string();
  if (addr) {
    s += source ? "->" : " ";
    s += addr.string();
  }
  s += ": " + err.message();
  return s;
}

bool OpError::timeout() const { return is_timeout(err); }

// Go asks the first net.Error in the chain for Timeout(); an OpError asks its cause, so it
// comes to the same as finding a time-out anywhere in the chain: a deadline (os's or
// context's), an Errno that is one (EAGAIN, ETIMEDOUT), or a DNS time-out.
bool is_timeout(const error& err) {
  for (error e = err; e; e = errors::unwrap(e)) {
    const ErrorBase* p = e.get();
    if (dynamic_cast<const os::DeadlineExceededError*>(p) != nullptr) return true;
    if (dynamic_cast<const context::DeadlineExceededError*>(p) != nullptr) return true;
    if (const auto* n = dynamic_cast<const os::Errno*>(p)) return n->timeout();
    if (const auto* d = dynamic_cast<const DNSError*>(p)) return d->timeout();
  }
  return false;
}

}  // namespace gocxx::net

// gocxx-unchecked-error: golden input (default options; unchecked_error_blank.cpp: Blank).
#include <gocxx/gocxx.hpp>

#include <span>

namespace net = gocxx::net;

gocxx::error flush();

// A discarded error, from a method and from a function.
void bad_discarded(net::Conn c) {
  c.close();
  flush();
}

// The error binding is never read: Go would not compile this.
std::size_t bad_binding_unused(net::Conn c, std::span<char> buf) {
  auto [n, err] = c.read(buf);
  return n;
}

// A local error that is only assigned.
void bad_error_never_read(net::Conn c) {
  gocxx::error err = c.close();
  err = flush();
}

// A result kept whole whose .err is never read.
std::size_t bad_result_value_only(net::Conn c) {
  auto written = c.write("ping");
  return written.value;
}

// The left of a comma.
int bad_comma() { return flush(), 1; }

// Checked, returned, passed on, or discarded explicitly.
gocxx::error ok_uses(net::Conn c, std::span<char> buf) {
  if (gocxx::error err = c.close()) return err;
  auto [n, err] = c.read(buf);
  if (err && err != gocxx::io::eof) return err;
  auto result = c.write("pong");
  if (result.err) return result.err;
  (void)flush();
  [[maybe_unused]] auto [m, ignored] = c.read(buf);
  return flush();
}

// NOLINT is honoured.
void suppressed(net::Conn c) {
  c.close();  // NOLINT(gocxx-unchecked-error)
}

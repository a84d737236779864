// gocxx-unchecked-error with Blank: true (errcheck -blank): the explicit discards too.
#include <gocxx/gocxx.hpp>

gocxx::error flush();

void bad_void() { (void)flush(); }

std::size_t bad_value_only(gocxx::net::Conn c) { return c.write("ping").value; }

gocxx::error ok_checked() { return flush(); }

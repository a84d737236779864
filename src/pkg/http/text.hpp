// Small text helpers shared by header.cpp (which defines them) and mux.cpp. Internal to
// gocxx::http.
#pragma once

#include <string>
#include <string_view>

namespace gocxx::http::detail {

// Go's strconv.Quote, as fmt's %q prints a string.
std::string go_quote(std::string_view s);
// Appends data as one chunk of a chunked body: "<size in hex>\r\n<data>\r\n".
void append_chunk(std::string& out, std::string_view data);

// Go's path.Clean.
std::string path_clean(std::string_view path);
// net/http's cleanPath: path.Clean, rooted, keeping a trailing slash.
std::string clean_path(std::string_view p);

}  // namespace gocxx::http::detail

// ServeMux's internals, exposed for tests/http_mux_test.cpp (Go's own tests call the
// unexported pattern functions directly). Defined in mux.cpp; nothing else uses them.
#pragma once

#include <string>
#include <string_view>

namespace gocxx::http::detail {

std::string mux_test_parse_error(std::string_view s);
std::string mux_test_describe(std::string_view s);
std::string mux_test_compare_methods(std::string_view a, std::string_view b);
std::string mux_test_compare_paths(std::string_view a, std::string_view b);
bool mux_test_conflicts(std::string_view a, std::string_view b);
std::string mux_test_describe_conflict(std::string_view a, std::string_view b);
std::string mux_test_common_path(std::string_view a, std::string_view b);
std::string mux_test_difference_path(std::string_view a, std::string_view b);
bool mux_test_exact_match(std::string_view pattern, std::string_view path);

}  // namespace gocxx::http::detail

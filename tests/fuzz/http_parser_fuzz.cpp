// libFuzzer target for gocxx::http's message reader (src/pkg/http/parser.*). Not built by CMake
// nor in CI; with clang-14 and libfuzzer-14-dev, from the repository root, after a build of the
// library in build/release (the reader is compiled again, instrumented; the rest comes from the
// library):
//
//   clang++-14 -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -Iinclude -Isrc \
//     tests/fuzz/http_parser_fuzz.cpp src/pkg/http/parser.cpp build/release/libgocxx.a \
//     -lboost_context -ldw -lz -lhttp_parser -pthread -o http_parser_fuzz
//   ./http_parser_fuzz -max_total_time=300 corpus/
//
// The first input byte picks the reader (request or response), whether responses answer HEAD,
// the header limit and how reads are split; the rest is what the peer sends. Checked: no crash
// or hang, every message ends in a head and a body or an error, and no body is longer than what
// was sent or than its Content-Length.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string_view>

#include "gocxx/io.hpp"
#include "pkg/http/parser.hpp"

using gocxx::http::detail::MessageReader;
using gocxx::http::detail::ProtocolError;

namespace {
void check(bool ok) {
  if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t mode = data[0];
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  const bool response = mode & 1;
  const bool head_request = mode & 2;
  const std::size_t max_header = (mode & 4) ? 64 : 0;
  const std::size_t split = 1 + (mode >> 3);  // 1..32 bytes a read
  std::size_t pos = 0;
  MessageReader r(
      response ? MessageReader::kResponse : MessageReader::kRequest,
      [&](std::span<char> buf) -> gocxx::Result<std::size_t> {
        if (pos >= input.size()) return {0, gocxx::io::eof};
        std::size_t n = std::min({buf.size(), input.size() - pos, split});
        std::memcpy(buf.data(), input.data() + pos, n);
        pos += n;
        return {n, nullptr};
      },
      max_header);
  std::size_t body_total = 0;
  char buf[37];
  for (std::size_t messages = 0;; ++messages) {
    check(messages <= input.size());
    auto [head, err] = r.read_head(head_request);
    if (err) {
      check(err == gocxx::io::eof || err == gocxx::io::err_unexpected_eof ||
            gocxx::errors::as<ProtocolError>(err) != nullptr);
      break;
    }
    std::size_t message_body = 0;
    for (;;) {
      auto [n, berr] = r.read_body(buf);
      check(n <= sizeof buf);
      message_body += n;
      body_total += n;
      check(body_total <= input.size());
      if (head.content_length >= 0 && !head.chunked) {
        check(message_body <= static_cast<std::size_t>(head.content_length));
      }
      if (berr) break;
      check(n > 0);
    }
    if (!r.body_done()) break;
  }
  return 0;
}

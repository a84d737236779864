// Reading HTTP/1.x messages from a connection: a thin wrapper around Debian's http-parser
// (libhttp-parser 2.9). The server reads requests with it, the client responses. Internal to
// gocxx::http.
//
// One MessageReader per connection. It keeps its own buffer, so bytes that arrive beyond the
// current message (a pipelined request) stay for the next read_head. The body is parsed as it
// is read (Content-Length or chunked; for responses also "until the connection closes"), never
// buffered whole.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "gocxx/http.hpp"

namespace gocxx::http::detail {

// Where a reader gets bytes: like net::Conn::read (at least one byte, or an error; io::eof
// when the peer closed).
using ReadFn = std::function<Result<std::size_t>(std::span<char>)>;

// A message's start line and headers, as sent (no defaults applied beyond HTTP's own rules).
struct MessageHead {
  std::string method;       // request: "GET"
  std::string target;       // request: the request-target, unmodified ("/a?b=c")
  int status_code = 0;      // response
  std::string reason;       // response: "OK"
  int proto_major = 1;
  int proto_minor = 1;
  Header header;            // canonical keys, values in order
  std::int64_t content_length = -1;  // -1: no Content-Length
  bool chunked = false;              // Transfer-Encoding: chunked
  bool keep_alive = true;            // per HTTP/1.0 and 1.1 rules and Connection headers
  bool expect_continue = false;      // request: Expect: 100-continue
};

// Why a message could not be read. The server answers kHeaderTooLarge with 431, kMalformed
// with 400 and kNotImplemented (a Transfer-Encoding other than "chunked": Go's
// unsupportedTEError) with 501, then closes the connection.
class ProtocolError final : public ErrorBase {
 public:
  enum Kind { kHeaderTooLarge, kMalformed, kNotImplemented };
  ProtocolError(Kind kind, std::string detail, bool response = false)
      : kind(kind), detail(std::move(detail)), response(response) {}
  // kHeaderTooLarge: "http: request too large" (Go's errTooLarge), for a response
  //   "http: response header too large";
  // kMalformed: "malformed HTTP request: <detail>" ("... response: ..." for a response), the
  //   detail being http-parser's description ("invalid HTTP method") or gocxx's own;
  // kNotImplemented: the detail, as Go's: "unsupported transfer encoding: \"gzip\"".
  std::string message() const override;
  Kind kind;
  std::string detail;
  bool response;  // read by a kResponse reader (the client)
};

class MessageReader {
 public:
  enum Kind { kRequest, kResponse };
  // max_header_bytes: Server::max_header_bytes (0: default_max_header_bytes). As Go's server,
  // a head (start line, headers and the blank line) of up to max_header_bytes + 4096 bytes is
  // read (Go's initialReadLimitSize); a longer one fails with kHeaderTooLarge as soon as the
  // limit is passed, without being buffered.
  MessageReader(Kind kind, ReadFn read, std::size_t max_header_bytes);
  ~MessageReader();
  MessageReader(const MessageReader&) = delete;
  MessageReader& operator=(const MessageReader&) = delete;

  // Reads the next message's head (the previous message's body must have been read or
  // discarded: else an error, and nothing is read). Errors: io::eof when the connection ended
  // cleanly before the first byte of a message (blank lines before it do not count); a
  // ProtocolError; io::err_unexpected_eof when it ended inside the head; or the ReadFn's error.
  // Every error but the one about an unread body is final: the reader returns it again from
  // then on. For a response, `no_body` says the request was HEAD (no body whatever the headers
  // say); 1xx, 204 and 304 responses have none either (their Content-Length and
  // Transfer-Encoding are ignored, as Go does). Header values are trimmed and folded lines
  // (obs-fold) joined with a space, as Go's textproto does; trailers are read and dropped.
  Result<MessageHead> read_head(bool no_body = false);
  // Reads the current message's body: at least one byte, or 0 with io::eof at its end;
  // io::err_unexpected_eof if the connection ends early; a ProtocolError for a malformed
  // chunk. A message without a body reads io::eof at once.
  Result<std::size_t> read_body(std::span<char> buf);
  // Reads and drops the rest of the body, at most `limit` bytes (false if more remain or it
  // failed: then the connection cannot be reused).
  bool discard_body(std::size_t limit);
  // True once the current message's body has been read to its end.
  bool body_done() const;
  // True if bytes beyond the current message are buffered (a pipelined request). Only known
  // once the current message has been read to its end: false before.
  bool has_buffered() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gocxx::http::detail

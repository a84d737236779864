// MessageReader: HTTP/1.x messages read with Debian's http-parser 2.9 (see parser.hpp).
//
// How http-parser is driven:
//
// * One parser per message: read_head re-initializes it, so bytes buffered beyond the previous
//   message (a pipelined request) are parsed from a clean state.
// * Debian builds the library with HTTP_PARSER_STRICT=0 (upstream's `make library`), which
//   skips some checks: the literal "HTTP/" of the version, a CR being followed by an LF (any
//   byte after a CR passes for the LF of some line ends), spaces in header names. The reader
//   makes those checks itself, with Go's rules: scan_head, check_start_line, finish_header.
// * The parser pauses itself in on_headers_complete and on_message_complete (http_parser_pause),
//   so that it never runs past the head or the message: what it has not consumed stays in our
//   buffer. A paused parser returns at the final LF of the head, unconsumed; read_head feeds it
//   that one byte more, which for a message without a body completes the message at once.
// * Body bytes are copied by on_body straight into the caller's buffer. The parser is fed at
//   most as many bytes as the caller's buffer has room for, and a body is never longer than the
//   bytes that carry it, so on_body always fits (a small pending buffer backs this up).
// * The header size limit is ours, not http-parser's: its compile-time 80 KiB limit is raised
//   once to the maximum, and the reader counts the bytes the parser consumed before the head
//   was complete. As Go's server, it allows max_header_bytes + 4096 (Go's bufio slop,
//   Server.initialReadLimitSize).
// * Header fields and values may come in several callbacks each (a field split across reads).
//   A callback whose bytes end before the end of the bytes being parsed ended its field or
//   value; the next callback of the same kind then starts a new field (after a field with an
//   empty value, which gets no value callback) or continues the value on a folded line (obs-fold,
//   which Go joins with one space).
#include "pkg/http/parser.hpp"

#include <http_parser.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <string_view>
#include <utility>

#include "gocxx/io.hpp"

namespace gocxx::http::detail {

namespace {

constexpr std::size_t kBufferSize = 16 << 10;
// Go's bufio slop on top of Server.MaxHeaderBytes (server.go, initialReadLimitSize).
constexpr std::size_t kHeaderSlop = 4096;
// http-parser counts header bytes in a uint32_t; stay well below it.
constexpr std::size_t kMaxHeadLimit = std::numeric_limits<std::int32_t>::max();
// Go's bufio.Reader gives up after this many reads that return neither data nor an error.
constexpr int kMaxEmptyReads = 100;

const error err_no_progress = errors::make("multiple Read calls return no data or error");
const error err_head_not_read =
    errors::make("http: MessageReader::read_head called before the body was read");

bool is_space(char c) { return c == ' ' || c == '\t'; }

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// Go's httpguts.HeaderValuesContainsToken for one value: a comma-separated token list.
bool has_token(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    auto comma = list.find(',');
    auto item = trim(list.substr(0, comma));
    if (iequals(item, token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

// Go's strconv.Quote, for the ASCII a header value holds.
std::string quote(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  out += '"';
  return out;
}

// RFC 7230 tchar: what a header field name and a method are made of.
bool is_token_char(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return c != 0 && c < 0x80 && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

// Go's httpguts.ValidHeaderFieldValue: no control bytes but HT.
bool valid_header_value(std::string_view v) {
  for (unsigned char c : v) {
    if ((c < ' ' && c != '\t') || c == 0x7f) return false;
  }
  return true;
}

// Go's http.ParseHTTPVersion: "HTTP/1.1", "HTTP/1.0" or "HTTP/X.Y" with one digit each.
bool valid_http_version(std::string_view v) {
  return v.size() == 8 && v.starts_with("HTTP/") && v[5] >= '0' && v[5] <= '9' && v[6] == '.' &&
         v[7] >= '0' && v[7] <= '9';
}

void raise_parser_header_limit() {
  // Process-wide in http-parser; done once, before any parser of ours runs.
  static const bool done = [] {
    http_parser_set_max_header_size(std::numeric_limits<std::uint32_t>::max());
    return true;
  }();
  (void)done;
}

}  // namespace

std::string ProtocolError::message() const {
  switch (kind) {
    case kHeaderTooLarge:
      return response ? "http: response header too large" : "http: request too large";
    case kNotImplemented:
      return detail;
    case kMalformed:
      break;
  }
  return std::string(response ? "malformed HTTP response: " : "malformed HTTP request: ") +
         detail;
}

struct MessageReader::Impl {
  Impl(Kind kind, ReadFn read, std::size_t max_header_bytes)
      : kind(kind), read(std::move(read)) {
    if (max_header_bytes == 0) max_header_bytes = default_max_header_bytes;
    head_limit = std::min(max_header_bytes, kMaxHeadLimit - kHeaderSlop) + kHeaderSlop;
    http_parser_init(&parser, kind == kRequest ? HTTP_REQUEST : HTTP_RESPONSE);
    parser.data = this;
  }

  Kind kind;
  ReadFn read;
  std::size_t head_limit;

  http_parser parser{};
  // Bytes read and not yet given to the parser: buf[start, end).
  std::unique_ptr<char[]> buf;
  std::size_t start = 0, end = 0;
  error read_err;  // the ReadFn's error, returned once the buffered bytes are used up
  error failed;    // sticky: the reader is unusable after it

  // The message being read.
  enum Phase { kIdle, kHead, kBody };
  Phase phase = kIdle;
  MessageHead head;
  bool no_body = false;        // read_head's argument
  bool begun = false;          // on_message_begin was called
  bool head_done = false;      // on_headers_complete was called
  bool message_done = false;   // on_message_complete was called
  std::size_t head_bytes = 0;  // consumed by the parser since read_head began
  // The start line as sent, without its line end (checked against Go's rules: Debian builds
  // http-parser with HTTP_PARSER_STRICT=0, which lets "HTTX/1.1" and the like through).
  std::string start_line;
  bool start_line_done = false;
  bool pending_cr = false;     // the last head byte scanned was a CR: the next must be LF
  error cb_err;                // why a callback failed (the parser then reports HPE_CB_*)

  // Header field/value assembly.
  enum Last { kNone, kField, kValue };
  Last last = kNone;
  bool piece_open = false;     // the last field/value piece ended at the end of the data
  bool fold_ws = false;        // skipping the leading whitespace of a folded line
  std::string field, value;
  const char* exec_end = nullptr;  // end of the bytes given to http_parser_execute

  // read_body's destination; body bytes that did not fit (never, in practice).
  char* out = nullptr;
  std::size_t out_cap = 0, out_n = 0;
  std::string pending;
  std::size_t pending_off = 0;

  static Impl& of(http_parser* p) { return *static_cast<Impl*>(p->data); }

  error protocol_error(ProtocolError::Kind k, std::string detail) const {
    return errors::make_as<ProtocolError>(k, std::move(detail), kind == kResponse);
  }

  error fail(error err) {
    failed = err;
    phase = kIdle;
    return err;
  }

  // Runs the parser on [p, p+n) (a null p with n == 0 signals EOF) and returns how many bytes
  // it consumed; a parse error is returned through err.
  std::size_t execute(const char* p, std::size_t n, error& err) {
    if (HTTP_PARSER_ERRNO(&parser) == HPE_PAUSED) http_parser_pause(&parser, 0);
    exec_end = p + n;
    std::size_t used = std::min(http_parser_execute(&parser, &settings, p, n), n);
    auto e = HTTP_PARSER_ERRNO(&parser);
    if (e != HPE_OK && e != HPE_PAUSED) {
      err = parse_error(e);
    } else if (used < n && e != HPE_PAUSED) {
      // http-parser stops early only when paused (or for an upgrade, which headers_complete
      // turns off): never spin on bytes it will not take.
      err = protocol_error(ProtocolError::kMalformed, "parser stopped");
    }
    return used;
  }

  error parse_error(http_errno e) const {
    if (cb_err) return cb_err;
    switch (e) {
      case HPE_HEADER_OVERFLOW:
        return protocol_error(ProtocolError::kHeaderTooLarge, "header overflow");
      case HPE_INVALID_TRANSFER_ENCODING:
        return protocol_error(ProtocolError::kNotImplemented, "unsupported transfer encoding");
      case HPE_INVALID_EOF_STATE:
        return io::err_unexpected_eof;
      default:
        return protocol_error(ProtocolError::kMalformed, http_errno_description(e));
    }
  }

  // Reads more bytes into the (empty) buffer. Returns nil, or the ReadFn's error (io::eof at
  // the end of the stream) once nothing is buffered.
  error fill() {
    if (read_err) return read_err;
    if (!buf) buf = std::make_unique<char[]>(kBufferSize);
    start = end = 0;
    for (int tries = 0; tries < kMaxEmptyReads; ++tries) {
      auto [n, err] = read(std::span<char>(buf.get(), kBufferSize));
      end = std::min(n, kBufferSize);
      if (err) read_err = err;
      if (end > 0) return nullptr;
      if (err) return err;
    }
    read_err = err_no_progress;
    return read_err;
  }

  // ---- header assembly ----

  // Adds the field assembled so far; false (cb_err set) if Go would refuse it (the server's
  // "invalid header name" / "invalid header value": the non-strict http-parser lets a space
  // in a name through).
  bool finish_header() {
    if (last == kNone) return true;
    last = kNone;
    std::string_view v = value;
    while (!v.empty() && is_space(v.back())) v.remove_suffix(1);
    value.resize(v.size());
    bool name_ok = !field.empty() &&
                   std::all_of(field.begin(), field.end(),
                               [](char c) { return is_token_char(static_cast<unsigned char>(c)); });
    if (!name_ok) {
      cb_err = protocol_error(ProtocolError::kMalformed, "invalid header name " + quote(field));
      return false;
    }
    if (!valid_header_value(value)) {
      cb_err = protocol_error(ProtocolError::kMalformed, "invalid header value for " + field);
      return false;
    }
    head.header.add(field, std::move(value));  // add canonicalizes the key
    field.clear();
    value.clear();
    return true;
  }

  int header_field(const char* at, std::size_t n) {
    if (head_done) return 0;  // a trailer: not kept
    if (last == kValue || (last == kField && !piece_open)) {
      if (!finish_header()) return -1;
    }
    field.append(at, n);
    last = kField;
    piece_open = at + n == exec_end;
    return 0;
  }

  int header_value(const char* at, std::size_t n) {
    if (head_done) return 0;
    if (last == kField) {
      value.clear();
      fold_ws = false;
    } else if (last == kValue && !piece_open) {
      // A continuation line (obs-fold): Go joins the trimmed lines with one space.
      while (!value.empty() && is_space(value.back())) value.pop_back();
      value += ' ';
      fold_ws = true;
    }
    piece_open = at + n == exec_end;
    last = kValue;
    if (fold_ws) {
      while (n > 0 && is_space(*at)) ++at, --n;
      if (n == 0) return 0;
      fold_ws = false;
    }
    value.append(at, n);
    return 0;
  }

  // Applies Go's rules that http-parser does not; the head is complete.
  error check_head() {
    // Go's transferReader.parseTransferEncoding: exactly one Transfer-Encoding, "chunked". Go
    // ignores the header on HTTP/1.0; gocxx rejects it there, as http-parser would otherwise
    // read a chunked body that Go does not.
    if (auto* te = head.header.values("Transfer-Encoding")) {
      if (head.proto_major < 1 || (head.proto_major == 1 && head.proto_minor == 0)) {
        return protocol_error(ProtocolError::kMalformed, "Transfer-Encoding before HTTP/1.1");
      }
      if (te->size() != 1) {
        std::string list = "[";
        for (std::size_t i = 0; i < te->size(); ++i) {
          if (i) list += ' ';
          list += quote((*te)[i]);
        }
        return protocol_error(ProtocolError::kNotImplemented,
                              "too many transfer encodings: " + list + "]");
      }
      if (!iequals(te->front(), "chunked")) {
        return protocol_error(ProtocolError::kNotImplemented,
                              "unsupported transfer encoding: " + quote(te->front()));
      }
    }
    return nullptr;
  }

  int headers_complete() {
    if (!finish_header()) return -1;
    head_done = true;
    // gocxx does not hand connections over to other protocols: an Upgrade request or CONNECT
    // is an ordinary message whose body, if any, its Content-Length or chunking delimits (as
    // Go's server reads it).
    parser.upgrade = 0;

    head.proto_major = parser.http_major;
    head.proto_minor = parser.http_minor;
    if (kind == kRequest) {
      head.method = http_method_str(static_cast<http_method>(parser.method));
    } else {
      head.status_code = static_cast<int>(parser.status_code);
    }
    if (auto e = check_head()) {
      cb_err = e;
      return -1;
    }
    head.chunked = (parser.flags & F_CHUNKED) != 0;
    head.content_length = (parser.flags & F_CONTENTLENGTH)
                              ? static_cast<std::int64_t>(parser.content_length)
                              : -1;
    if (kind == kRequest) {
      if (auto* ex = head.header.values("Expect")) {
        for (auto& v : *ex) head.expect_continue |= has_token(v, "100-continue");
      }
    }
    // A response to HEAD has no body whatever its headers say; neither have 1xx, 204 and 304
    // (Go ignores their Content-Length and Transfer-Encoding: transfer.go, fixLength).
    int code = head.status_code;
    bool skip = kind == kResponse && (no_body || code / 100 == 1 || code == 204 || code == 304);
    if (skip) parser.flags |= F_SKIPBODY;  // before http_should_keep_alive reads it
    head.keep_alive = http_should_keep_alive(&parser) != 0;
    http_parser_pause(&parser, 1);
    return skip ? 1 : 0;
  }

  int body(const char* at, std::size_t n) {
    std::size_t fit = std::min(n, out_cap - out_n);
    if (fit > 0) {
      std::memcpy(out + out_n, at, fit);
      out_n += fit;
    }
    if (fit < n) pending.append(at + fit, n - fit);
    return 0;
  }

  // ---- callbacks ----

  static int on_message_begin(http_parser* p) {
    of(p).begun = true;
    return 0;
  }
  static int on_url(http_parser* p, const char* at, std::size_t n) {
    of(p).head.target.append(at, n);
    return 0;
  }
  static int on_status(http_parser* p, const char* at, std::size_t n) {
    of(p).head.reason.append(at, n);
    return 0;
  }
  static int on_header_field(http_parser* p, const char* at, std::size_t n) {
    return of(p).header_field(at, n);
  }
  static int on_header_value(http_parser* p, const char* at, std::size_t n) {
    return of(p).header_value(at, n);
  }
  static int on_headers_complete(http_parser* p) { return of(p).headers_complete(); }
  static int on_body(http_parser* p, const char* at, std::size_t n) { return of(p).body(at, n); }
  static int on_message_complete(http_parser* p) {
    of(p).message_done = true;
    http_parser_pause(p, 1);
    return 0;
  }

  static const http_parser_settings settings;

  // ---- the operations ----

  void reset_message(bool skip_body) {
    http_parser_init(&parser, kind == kRequest ? HTTP_REQUEST : HTTP_RESPONSE);
    parser.data = this;
    head = MessageHead{};
    no_body = skip_body;
    begun = head_done = message_done = false;
    head_bytes = 0;
    start_line.clear();
    start_line_done = pending_cr = false;
    cb_err = nullptr;
    last = kNone;
    piece_open = fold_ws = false;
    field.clear();
    value.clear();
    pending.clear();
    pending_off = 0;
  }

  // Scans head bytes the parser consumed: keeps the start line, and refuses a CR that is not
  // part of a line end (Go reads lines up to LF; a stray CR ends up in a value or the request
  // target, where Go refuses it; the non-strict http-parser takes some for an LF).
  error scan_head(const char* p, std::size_t n) {
    const char* end = p + n;
    for (; p < end; ++p) {
      if (pending_cr && *p != '\n') {
        return protocol_error(ProtocolError::kMalformed, "CR not followed by LF");
      }
      pending_cr = *p == '\r';
      if (start_line_done) {
        // The rest of the head: only its CRs matter.
        if (pending_cr) continue;
        auto* cr = static_cast<const char*>(std::memchr(p, '\r', end - p));
        if (cr == nullptr) break;
        p = cr - 1;
      } else if (*p == '\n') {
        if (!start_line.empty()) start_line_done = true;  // else a blank line before the message
      } else if (*p != '\r') {
        start_line += *p;
      }
    }
    return nullptr;
  }

  // Go's parseRequestLine + ParseHTTPVersion (request.go), or ReadResponse's status line.
  error check_start_line() const {
    std::string_view line = start_line;
    auto bad = [&](std::string what, std::string_view v) {
      return protocol_error(ProtocolError::kMalformed, what + " " + quote(v));
    };
    if (kind == kRequest) {
      auto sp1 = line.find(' ');
      auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
      if (sp2 == std::string_view::npos) return bad("malformed request line", line);
      auto method = line.substr(0, sp1);
      auto uri = line.substr(sp1 + 1, sp2 - sp1 - 1);
      auto proto = line.substr(sp2 + 1);
      if (method != head.method) return bad("invalid method", method);
      if (uri.empty() || !valid_header_value(uri) || uri.find('\t') != std::string_view::npos) {
        return bad("invalid request URI", uri);
      }
      if (!valid_http_version(proto)) return bad("malformed HTTP version", proto);
    } else {
      auto sp = line.find(' ');
      if (sp == std::string_view::npos) return bad("malformed status line", line);
      auto proto = line.substr(0, sp);
      auto status = line.substr(sp + 1);
      while (!status.empty() && status.front() == ' ') status.remove_prefix(1);
      auto code = status.substr(0, status.find(' '));
      if (code.size() != 3 || !std::all_of(code.begin(), code.end(),
                                           [](char c) { return c >= '0' && c <= '9'; })) {
        return bad("malformed HTTP status code", code);
      }
      if (!valid_http_version(proto)) return bad("malformed HTTP version", proto);
    }
    return nullptr;
  }

  error too_large() const {
    return protocol_error(ProtocolError::kHeaderTooLarge,
                          "the head exceeds " + std::to_string(head_limit) + " bytes");
  }

  Result<MessageHead> read_head(bool skip_body) {
    if (failed) return {{}, failed};
    if (phase == kBody && !message_done) return {{}, err_head_not_read};
    reset_message(skip_body);
    phase = kHead;
    while (!head_done) {
      if (start == end) {
        if (error err = fill()) {
          if (err == io::eof) err = begun ? io::err_unexpected_eof : io::eof;
          return {{}, fail(err)};
        }
      }
      // Never more than the limit allows (plus the byte that shows it is exceeded).
      std::size_t n = std::min(end - start, head_limit + 1 - head_bytes);
      error err;
      std::size_t used = execute(buf.get() + start, n, err);
      if (!err) err = scan_head(buf.get() + start, used);
      start += used;
      head_bytes += used;
      if (err) return {{}, fail(err)};
      // Paused at the final LF, unconsumed: the head is head_bytes + 1 bytes long.
      if (head_done ? head_bytes + 1 > head_limit : head_bytes >= head_limit) {
        return {{}, fail(too_large())};
      }
    }
    // The parser stopped at the byte that ends the head: an LF (the non-strict parser takes
    // any byte after a CR for one).
    if (buf[start] != '\n') {
      return {{}, fail(protocol_error(ProtocolError::kMalformed, "CR not followed by LF"))};
    }
    pending_cr = false;
    if (error err = check_start_line()) return {{}, fail(err)};
    // The final LF: completes a message without a body, or enters the body.
    error err;
    start += execute(buf.get() + start, 1, err);
    if (err) return {{}, fail(err)};
    phase = kBody;
    return {std::move(head), nullptr};
  }

  Result<std::size_t> read_body(std::span<char> dst) {
    if (failed) return {0, failed};
    if (phase != kBody) return {0, io::eof};
    if (pending_off < pending.size()) {
      std::size_t n = std::min(dst.size(), pending.size() - pending_off);
      std::memcpy(dst.data(), pending.data() + pending_off, n);
      pending_off += n;
      if (pending_off == pending.size()) pending.clear(), pending_off = 0;
      return {n, nullptr};
    }
    if (message_done) return {0, io::eof};
    if (dst.empty()) return {0, nullptr};
    out = dst.data();
    out_cap = dst.size();
    out_n = 0;
    error err;
    while (!message_done && out_n < out_cap) {
      if (start == end) {
        if (out_n > 0) break;  // what is here now; do not wait for more
        if (error rerr = fill()) {
          if (rerr != io::eof) return {0, fail(rerr)};
          execute(nullptr, 0, err);  // the end of a body that runs until the connection closes
          if (err || !message_done) return {0, fail(io::err_unexpected_eof)};
          break;
        }
      }
      std::size_t n = std::min(end - start, out_cap - out_n);
      start += execute(buf.get() + start, n, err);
      if (err) return {0, fail(err)};
    }
    out = nullptr;
    out_cap = 0;
    std::size_t n = out_n;
    out_n = 0;
    if (n == 0 && message_done) return {0, io::eof};
    return {n, nullptr};
  }

  bool discard_body(std::size_t limit) {
    // As Go's server after a handler: read up to limit + 1 bytes; more means too much.
    char scratch[4096];
    std::size_t total = 0;
    for (;;) {
      std::size_t want = limit - total >= sizeof scratch ? sizeof scratch : limit - total + 1;
      auto [n, err] = read_body(std::span<char>(scratch, want));
      total += n;
      if (err) return err == io::eof;
      if (total > limit) return false;
    }
  }
};

const http_parser_settings MessageReader::Impl::settings = {
    .on_message_begin = &Impl::on_message_begin,
    .on_url = &Impl::on_url,
    .on_status = &Impl::on_status,
    .on_header_field = &Impl::on_header_field,
    .on_header_value = &Impl::on_header_value,
    .on_headers_complete = &Impl::on_headers_complete,
    .on_body = &Impl::on_body,
    .on_message_complete = &Impl::on_message_complete,
    .on_chunk_header = nullptr,
    .on_chunk_complete = nullptr,
};

MessageReader::MessageReader(Kind kind, ReadFn read, std::size_t max_header_bytes) {
  raise_parser_header_limit();
  impl_ = std::make_unique<Impl>(kind, std::move(read), max_header_bytes);
}

MessageReader::~MessageReader() = default;

Result<MessageHead> MessageReader::read_head(bool no_body) { return impl_->read_head(no_body); }

Result<std::size_t> MessageReader::read_body(std::span<char> buf) {
  return impl_->read_body(buf);
}

bool MessageReader::discard_body(std::size_t limit) { return impl_->discard_body(limit); }

bool MessageReader::body_done() const {
  return impl_->phase == Impl::kBody && impl_->message_done &&
         impl_->pending_off >= impl_->pending.size();
}

bool MessageReader::has_buffered() const {
  return impl_->phase == Impl::kBody && impl_->message_done && impl_->start < impl_->end;
}

}  // namespace gocxx::http::detail

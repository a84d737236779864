// gocxx::http's value types and small helpers: status texts, Header, url.Values and escaping,
// URL parsing, Body, Request, NewRequest, and the reply helpers (Error, NotFound, Redirect,
// StripPrefix). Each follows the Go function it names (net/http, net/url, net/textproto;
// Go 1.19 sources unless said otherwise); where gocxx differs, the comment says so.
#include <algorithm>
#include <cctype>
#include <cstring>
#include <string>
#include <cstdio>
#include <string_view>
#include <utility>

#include "gocxx/defer.hpp"
#include "gocxx/html.hpp"
#include "gocxx/http.hpp"
#include "gocxx/io.hpp"

#include "pkg/http/text.hpp"

namespace gocxx::http {


// ---- status texts (net/http/status.go) --------------------------------------------------------

std::string_view status_text(int code) {
  switch (code) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 102: return "Processing";
    case 103: return "Early Hints";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 203: return "Non-Authoritative Information";
    case 204: return "No Content";
    case 205: return "Reset Content";
    case 206: return "Partial Content";
    case 207: return "Multi-Status";
    case 208: return "Already Reported";
    case 226: return "IM Used";
    case 300: return "Multiple Choices";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 305: return "Use Proxy";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 407: return "Proxy Authentication Required";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Request Entity Too Large";
    case 414: return "Request URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Requested Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 418: return "I'm a teapot";
    case 421: return "Misdirected Request";
    case 422: return "Unprocessable Entity";
    case 423: return "Locked";
    case 424: return "Failed Dependency";
    case 425: return "Too Early";
    case 426: return "Upgrade Required";
    case 428: return "Precondition Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 451: return "Unavailable For Legal Reasons";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    case 506: return "Variant Also Negotiates";
    case 507: return "Insufficient Storage";
    case 508: return "Loop Detected";
    case 510: return "Not Extended";
    case 511: return "Network Authentication Required";
    default: return "";
  }
}

// ---- shared helpers ---------------------------------------------------------------------------

namespace {

// RFC 7230 tchar (net/textproto's isTokenTable, net/http's isTokenTable).
bool is_token_char(unsigned char c) {
  if (c >= 0x80) return false;
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != 0;
}

bool valid_token(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (!is_token_char(c)) return false;
  }
  return true;
}

bool is_ascii_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// textproto.TrimString.
std::string_view trim_string(std::string_view s) {
  while (!s.empty() && is_ascii_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ascii_space(s.back())) s.remove_suffix(1);
  return s;
}

// The length of the valid UTF-8 sequence at s[i], or 0 if it is not one.
std::size_t utf8_len(std::string_view s, std::size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  std::size_t n;
  std::uint32_t cp;
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) {
    n = 2;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    auto d = static_cast<unsigned char>(s[i + k]);
    if ((d & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (d & 0x3F);
  }
  // Overlong forms, surrogates and values beyond U+10FFFF are invalid, as in Go.
  if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
      (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
    return 0;
  }
  return n;
}

constexpr char kUpperHex[] = "0123456789ABCDEF";

bool ishex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

unsigned char unhex(char c) {
  if (c >= '0' && c <= '9') return static_cast<unsigned char>(c - '0');
  if (c >= 'a' && c <= 'f') return static_cast<unsigned char>(c - 'a' + 10);
  if (c >= 'A' && c <= 'F') return static_cast<unsigned char>(c - 'A' + 10);
  return 0;
}

}  // namespace

namespace detail {

// strconv.Quote, as fmt's %q prints a string: printable text as is (every valid non-ASCII rune
// counts as printable here; Go consults unicode.IsPrint), the usual backslash escapes, \xNN for
// other bytes and for invalid UTF-8.
std::string go_quote(std::string_view s) {
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      std::size_t n = utf8_len(s, i);
      if (n == 0) {
        out += "\\x";
        out += "0123456789abcdef"[c >> 4];
        out += "0123456789abcdef"[c & 15];
        ++i;
      } else {
        out.append(s.substr(i, n));
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\a': out += "\\a"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\v': out += "\\v"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\x";
          out += "0123456789abcdef"[c >> 4];
          out += "0123456789abcdef"[c & 15];
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  out += '"';
  return out;
}

// Go's path.Clean: the shortest equivalent path, by purely lexical processing.
std::string path_clean(std::string_view path) {
  if (path.empty()) return ".";
  const bool rooted = path[0] == '/';
  const std::size_t n = path.size();
  std::string out;
  out.reserve(n);
  std::size_t r = 0, dotdot = 0;
  if (rooted) {
    out += '/';
    r = 1;
    dotdot = 1;
  }
  while (r < n) {
    if (path[r] == '/') {
      ++r;  // empty path element
    } else if (path[r] == '.' && (r + 1 == n || path[r + 1] == '/')) {
      ++r;  // . element
    } else if (path[r] == '.' && path[r + 1] == '.' && (r + 2 == n || path[r + 2] == '/')) {
      r += 2;  // .. element: remove to last /
      if (out.size() > dotdot) {
        std::size_t w = out.size() - 1;
        while (w > dotdot && out[w] != '/') --w;
        out.resize(w);
      } else if (!rooted) {
        if (!out.empty()) out += '/';
        out += "..";
        dotdot = out.size();
      }
    } else {
      // A real path element: add a slash if needed, then copy it.
      if ((rooted && out.size() != 1) || (!rooted && !out.empty())) out += '/';
      for (; r < n && path[r] != '/'; ++r) out += path[r];
    }
  }
  if (out.empty()) return ".";
  return out;
}

void append_chunk(std::string& out, std::string_view data) {
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  out += size;
  out.append(data);
  out += "\r\n";
}

// net/http's cleanPath: path.Clean, rooted, keeping a trailing slash.
std::string clean_path(std::string_view p) {
  if (p.empty()) return "/";
  std::string rooted;
  if (p[0] != '/') {
    rooted = "/";
    rooted.append(p);
    p = rooted;
  }
  std::string np = path_clean(p);
  if (p.back() == '/' && np != "/") np += '/';
  return np;
}

}  // namespace detail

// ---- headers ----------------------------------------------------------------------------------

std::string canonical_header_key(std::string_view key) {
  // A key with a byte that is not a token character is returned unchanged (Go 1.19's
  // CanonicalMIMEHeaderKey), and so is an already canonical one.
  for (unsigned char c : key) {
    if (!is_token_char(c)) return std::string(key);
  }
  std::string out(key);
  bool upper = true;
  for (char& c : out) {
    if (upper && c >= 'a' && c <= 'z') {
      c = static_cast<char>(c - ('a' - 'A'));
    } else if (!upper && c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c + ('a' - 'A'));
    }
    upper = c == '-';
  }
  return out;
}

namespace {

// True if canonical_header_key(key) == key: lookups then need no copy of the key (most keys a
// program names are written canonically: "Content-Type").
bool is_canonical(std::string_view key) {
  bool upper = true;
  for (char c : key) {
    if (upper ? (c >= 'a' && c <= 'z') : (c >= 'A' && c <= 'Z')) return false;
    upper = c == '-';
  }
  return true;
}

// Runs f with the canonical form of key, copying it only when it is not canonical already.
template <class F>
decltype(auto) with_canonical(std::string_view key, F&& f) {
  if (is_canonical(key)) return f(key);
  std::string canonical = canonical_header_key(key);
  return f(std::string_view(canonical));
}

template <class It>
It lower_bound_key(It first, It last, std::string_view key) {
  return std::lower_bound(first, last, key,
                          [](const auto& e, std::string_view k) { return std::string_view(e.first) < k; });
}

}  // namespace

Header::Entries::iterator Header::slot(std::string_view key, bool& found) {
  return with_canonical(key, [&](std::string_view k) {
    auto it = lower_bound_key(entries_.begin(), entries_.end(), k);
    found = it != entries_.end() && it->first == k;
    if (!found) it = entries_.emplace(it, std::string(k), std::vector<std::string>{});
    return it;
  });
}

namespace {

// a and b (of one size) are equal but for the case of ASCII letters.
bool equal_fold(std::string_view a, std::string_view b) {
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto x = static_cast<unsigned char>(a[i]), y = static_cast<unsigned char>(b[i]);
    if (x == y) continue;
    unsigned char lx = x | 0x20;
    if (lx != (y | 0x20) || lx < 'a' || lx > 'z') return false;
  }
  return true;
}

bool all_token_chars(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return is_token_char(static_cast<unsigned char>(c)); });
}

}  // namespace

// Lookups copy nothing: a stored key is canonical, so a key made of token characters matches
// it exactly when the two are equal but for case; any other key is kept verbatim and must
// match exactly (Go's CanonicalMIMEHeaderKey leaves it alone).
Header::Entries::const_iterator Header::find(std::string_view key) const {
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    const std::string& k = it->first;
    if (k.size() == key.size() && equal_fold(k, key) && (k == key || all_token_chars(key))) return it;
  }
  return entries_.end();
}

void Header::set(std::string_view key, std::string value) {
  bool found;
  auto& v = slot(key, found)->second;
  v.clear();
  v.push_back(std::move(value));
}

void Header::add(std::string_view key, std::string value) {
  bool found;
  slot(key, found)->second.push_back(std::move(value));
}

std::string Header::get(std::string_view key) const {
  auto it = find(key);
  if (it == entries_.end() || it->second.empty()) return "";
  return it->second.front();
}

const std::vector<std::string>* Header::values(std::string_view key) const {
  auto it = find(key);
  return it == entries_.end() ? nullptr : &it->second;
}

void Header::del(std::string_view key) {
  auto it = find(key);
  if (it != entries_.end()) entries_.erase(entries_.begin() + (it - entries_.cbegin()));
}

void Header::write_subset(std::string& out, std::span<const std::string_view> exclude) const {
  // Go's Header.Write: keys in sorted order, invalid field names skipped, CR and LF in values
  // replaced by spaces, values trimmed.
  for (const auto& [key, values] : entries_) {
    if (!valid_token(key) || std::find(exclude.begin(), exclude.end(), key) != exclude.end()) continue;
    for (const auto& raw : values) {
      out += key;
      out += ": ";
      std::size_t from = out.size();
      out += trim_string(raw);
      std::replace(out.begin() + static_cast<std::ptrdiff_t>(from), out.end(), '\r', ' ');
      std::replace(out.begin() + static_cast<std::ptrdiff_t>(from), out.end(), '\n', ' ');
      out += "\r\n";
    }
  }
}

// ---- escaping (net/url) -----------------------------------------------------------------------

namespace {

enum class Encoding { kPath = 1, kPathSegment, kHost, kZone, kUserPassword, kQueryComponent, kFragment };

bool should_escape(unsigned char c, Encoding mode) {
  // §2.3 Unreserved characters (alphanum)
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return false;
  if (mode == Encoding::kHost || mode == Encoding::kZone) {
    // §3.2.2 Host allows sub-delims, ':' for the port, '[' ']' for IPv6; '<' '>' '"' too
    // (Go's choice, for CGI's sake).
    switch (c) {
      case '!': case '$': case '&': case '\'': case '(': case ')': case '*': case '+': case ',':
      case ';': case '=': case ':': case '[': case ']': case '<': case '>': case '"':
        return false;
      default: break;
    }
  }
  switch (c) {
    case '-': case '_': case '.': case '~':  // §2.3 Unreserved characters (mark)
      return false;
    case '$': case '&': case '+': case ',': case '/': case ':': case ';': case '=': case '?':
    case '@':  // §2.2 Reserved characters (reserved)
      switch (mode) {
        case Encoding::kPath: return c == '?';
        case Encoding::kPathSegment: return c == '/' || c == ';' || c == ',' || c == '?';
        case Encoding::kUserPassword: return c == '@' || c == '/' || c == '?' || c == ':';
        case Encoding::kQueryComponent: return true;
        case Encoding::kFragment: return false;
        default: break;
      }
      break;
    default: break;
  }
  if (mode == Encoding::kFragment) {
    switch (c) {
      case '!': case '(': case ')': case '*': return false;
      default: break;
    }
  }
  return true;
}

// Go's url.EscapeError: `invalid URL escape "%zz"`.
error escape_error(std::string_view s) {
  return errors::make("invalid URL escape " + detail::go_quote(s));
}

// Go's url.InvalidHostError.
error invalid_host_error(std::string_view s) {
  return errors::make("invalid character " + detail::go_quote(s) + " in host name");
}

Result<std::string> unescape(std::string_view s, Encoding mode) {
  // Count %, check that they're well-formed.
  std::size_t n = 0;
  bool has_plus = false;
  for (std::size_t i = 0; i < s.size();) {
    switch (s[i]) {
      case '%': {
        ++n;
        if (i + 2 >= s.size() || !ishex(s[i + 1]) || !ishex(s[i + 2])) {
          return {"", escape_error(s.substr(i, 3))};
        }
        // Per https://tools.ietf.org/html/rfc3986#page-21 in the host component %-encoding
        // can only be used for non-ASCII bytes; RFC 6874 adds %25 as the zone separator.
        if (mode == Encoding::kHost && unhex(s[i + 1]) < 8 && s.substr(i, 3) != "%25") {
          return {"", escape_error(s.substr(i, 3))};
        }
        if (mode == Encoding::kZone) {
          auto v = static_cast<unsigned char>(unhex(s[i + 1]) << 4 | unhex(s[i + 2]));
          if (s.substr(i, 3) != "%25" && v != ' ' && should_escape(v, Encoding::kHost)) {
            return {"", escape_error(s.substr(i, 3))};
          }
        }
        i += 3;
        break;
      }
      case '+':
        has_plus = mode == Encoding::kQueryComponent;
        ++i;
        break;
      default:
        if ((mode == Encoding::kHost || mode == Encoding::kZone) &&
            static_cast<unsigned char>(s[i]) < 0x80 &&
            should_escape(static_cast<unsigned char>(s[i]), mode)) {
          return {"", invalid_host_error(s.substr(i, 1))};
        }
        ++i;
    }
  }
  if (n == 0 && !has_plus) return {std::string(s), nullptr};
  std::string t;
  t.reserve(s.size() - 2 * n);
  for (std::size_t i = 0; i < s.size(); ++i) {
    switch (s[i]) {
      case '%':
        t += static_cast<char>(unhex(s[i + 1]) << 4 | unhex(s[i + 2]));
        i += 2;
        break;
      case '+':
        t += mode == Encoding::kQueryComponent ? ' ' : '+';
        break;
      default:
        t += s[i];
    }
  }
  return {std::move(t), nullptr};
}

std::string escape(std::string_view s, Encoding mode) {
  std::string t;
  t.reserve(s.size());
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c == ' ' && mode == Encoding::kQueryComponent) {
      t += '+';
    } else if (should_escape(c, mode)) {
      t += '%';
      t += kUpperHex[c >> 4];
      t += kUpperHex[c & 15];
    } else {
      t += ch;
    }
  }
  return t;
}

// Go's validEncoded: s holds only characters a path (or fragment) may hold escaped, so that
// it can be used as the URL's encoding as it is.
bool valid_encoded(std::string_view s, Encoding mode) {
  for (char ch : s) {
    switch (ch) {
      // RFC 3986, Appendix A: pchar = unreserved / pct-encoded / sub-delims / ":" / "@".
      case '!': case '$': case '&': case '\'': case '(': case ')': case '*': case '+': case ',':
      case ';': case '=': case ':': case '@':
      case '[': case ']':  // not in the RFC, but Go allows them (golang.org/issue/5684)
      case '%':            // escapes are checked by unescape
        break;
      default:
        if (should_escape(static_cast<unsigned char>(ch), mode)) return false;
    }
  }
  return true;
}

}  // namespace

std::string query_escape(std::string_view s) { return escape(s, Encoding::kQueryComponent); }
Result<std::string> query_unescape(std::string_view s) {
  return unescape(s, Encoding::kQueryComponent);
}
std::string path_escape(std::string_view s) { return escape(s, Encoding::kPathSegment); }
Result<std::string> path_unescape(std::string_view s) {
  return unescape(s, Encoding::kPathSegment);
}

// ---- url.Values -------------------------------------------------------------------------------

std::string Values::get(std::string_view key) const {
  auto it = map_.find(key);
  if (it == map_.end() || it->second.empty()) return "";
  return it->second.front();
}

const std::vector<std::string>* Values::values(std::string_view key) const {
  auto it = map_.find(key);
  return it == map_.end() ? nullptr : &it->second;
}

bool Values::has(std::string_view key) const { return map_.find(key) != map_.end(); }

void Values::set(std::string key, std::string value) {
  auto& v = map_[std::move(key)];
  v.clear();
  v.push_back(std::move(value));
}

void Values::add(std::string key, std::string value) {
  map_[std::move(key)].push_back(std::move(value));
}

void Values::del(std::string_view key) {
  auto it = map_.find(key);
  if (it != map_.end()) map_.erase(it);
}

std::string Values::encode() const {
  std::string buf;
  for (const auto& [key, values] : map_) {  // sorted by key, as Go sorts them
    std::string k = query_escape(key);
    for (const auto& v : values) {
      if (!buf.empty()) buf += '&';
      buf += k;
      buf += '=';
      buf += query_escape(v);
    }
  }
  return buf;
}

Result<Values> parse_query(std::string_view query) {
  Values m;
  error err;
  while (!query.empty()) {
    std::string_view key = query;
    if (auto amp = query.find('&'); amp != std::string_view::npos) {
      key = query.substr(0, amp);
      query.remove_prefix(amp + 1);
    } else {
      query = {};
    }
    if (key.find(';') != std::string_view::npos) {
      // Go overwrites any earlier error with this one.
      err = errors::make("invalid semicolon separator in query");
      continue;
    }
    if (key.empty()) continue;
    std::string_view value;
    if (auto eq = key.find('='); eq != std::string_view::npos) {
      value = key.substr(eq + 1);
      key = key.substr(0, eq);
    }
    auto k = query_unescape(key);
    if (k.err) {
      if (!err) err = k.err;
      continue;
    }
    auto v = query_unescape(value);
    if (v.err) {
      if (!err) err = v.err;
      continue;
    }
    m.add(std::move(k.value), std::move(v.value));
  }
  return {std::move(m), err};
}

// ---- URL --------------------------------------------------------------------------------------

namespace {

// Go's *url.Error: `parse "x": cause`.
class UrlError final : public WrappingError {
 public:
  UrlError(std::string op, std::string url, error err)
      : op_(std::move(op)), url_(std::move(url)), err_(std::move(err)) {}
  std::string message() const override {
    return op_ + " " + detail::go_quote(url_) + ": " + err_.message();
  }
  error unwrap() const override { return err_; }

 private:
  std::string op_, url_;
  error err_;
};

error url_error(std::string_view raw, error cause) {
  return errors::make_as<UrlError>("parse", std::string(raw), std::move(cause));
}

bool valid_optional_port(std::string_view port) {
  if (port.empty()) return true;
  if (port[0] != ':') return false;
  for (char b : port.substr(1)) {
    if (b < '0' || b > '9') return false;
  }
  return true;
}

std::string quote_port_error(std::string_view colon_port) {
  return "invalid port " + detail::go_quote(colon_port) + " after host";
}

// Go's parseHost.
Result<std::string> parse_host(std::string_view host) {
  if (!host.empty() && host[0] == '[') {
    // Parse an IP-Literal in RFC 3986 and RFC 6874, e.g. "[fe80::1]", "[fe80::1%25en0]",
    // "[fe80::1]:80".
    auto i = host.rfind(']');
    if (i == std::string_view::npos) return {"", errors::make("missing ']' in host")};
    std::string_view colon_port = host.substr(i + 1);
    if (!valid_optional_port(colon_port)) {
      return {"", errors::make(quote_port_error(colon_port))};
    }
    // RFC 6874 defines that %25 (%-encoded percent) introduces the zone identifier, and the
    // zone identifier can use basically any %-encoding it likes.
    auto zone = host.substr(0, i).find("%25");
    if (zone != std::string_view::npos) {
      auto h1 = unescape(host.substr(0, zone), Encoding::kHost);
      if (h1.err) return {"", h1.err};
      auto h2 = unescape(host.substr(zone, i - zone), Encoding::kZone);
      if (h2.err) return {"", h2.err};
      auto h3 = unescape(host.substr(i), Encoding::kHost);
      if (h3.err) return {"", h3.err};
      return {h1.value + h2.value + h3.value, nullptr};
    }
  } else if (auto i = host.rfind(':'); i != std::string_view::npos) {
    std::string_view colon_port = host.substr(i);
    if (!valid_optional_port(colon_port)) {
      return {"", errors::make(quote_port_error(colon_port))};
    }
  }
  return unescape(host, Encoding::kHost);
}

// Go's getScheme.
Result<std::pair<std::string, std::string_view>> get_scheme(std::string_view raw) {
  for (std::size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
      // do nothing
    } else if ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.') {
      if (i == 0) return {{"", raw}, nullptr};
    } else if (c == ':') {
      if (i == 0) return {{"", ""}, errors::make("missing protocol scheme")};
      return {{std::string(raw.substr(0, i)), raw.substr(i + 1)}, nullptr};
    } else {
      // Invalid character, so there is no valid scheme.
      return {{"", raw}, nullptr};
    }
  }
  return {{"", raw}, nullptr};
}

// Go's URL.setPath.
error set_path(URL& u, std::string_view p) {
  auto [path, err] = unescape(p, Encoding::kPath);
  if (err) return err;
  u.path = std::move(path);
  if (escape(u.path, Encoding::kPath) == p) {
    u.raw_path.clear();
  } else {
    u.raw_path = std::string(p);
  }
  return nullptr;
}

// Go's parse(rawURL, viaRequest) for the forms URL can hold. via_request: ParseRequestURI's
// rules (no authority without a scheme, no relative paths).
Result<URL> parse(std::string_view raw, bool via_request) {
  for (char ch : raw) {
    auto b = static_cast<unsigned char>(ch);
    if (b < ' ' || b == 0x7f) {
      return {{}, errors::make("net/url: invalid control character in URL")};
    }
  }
  if (raw.empty() && via_request) return {{}, errors::make("empty url")};
  URL url;
  if (raw == "*") {
    url.path = "*";
    return {std::move(url), nullptr};
  }
  auto [sr, serr] = get_scheme(raw);
  if (serr) return {{}, serr};
  url.scheme = std::move(sr.first);
  for (char& c : url.scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string_view rest = sr.second;

  if (!rest.empty() && rest.back() == '?' &&
      std::count(rest.begin(), rest.end(), '?') == 1) {
    rest.remove_suffix(1);  // Go sets ForceQuery; URL has no field for it
  } else if (auto q = rest.find('?'); q != std::string_view::npos) {
    url.raw_query = std::string(rest.substr(q + 1));
    rest = rest.substr(0, q);
  }

  if (rest.empty() || rest[0] != '/') {
    if (!url.scheme.empty()) {
      // Go parses "mailto:x" as an opaque URL: URL cannot hold one.
      if (!rest.empty()) return {{}, errors::make("opaque URLs are not supported")};
      return {std::move(url), nullptr};
    }
    if (via_request) return {{}, errors::make("invalid URI for request")};
    // Avoid confusion with malformed schemes, like cache_object:foo/bar.
    std::string_view segment = rest.substr(0, rest.find('/'));
    if (segment.find(':') != std::string_view::npos) {
      return {{}, errors::make("first path segment in URL cannot contain colon")};
    }
  }

  const bool slashes = rest.size() >= 2 && rest[0] == '/' && rest[1] == '/';
  const bool three = rest.size() >= 3 && slashes && rest[2] == '/';
  if ((!url.scheme.empty() || (!via_request && !three)) && slashes) {
    std::string_view authority = rest.substr(2);
    rest = {};
    if (auto i = authority.find('/'); i != std::string_view::npos) {
      rest = authority.substr(i);
      authority = authority.substr(0, i);
    }
    if (authority.rfind('@') != std::string_view::npos) {
      // Go keeps the user info (URL.User); gocxx's URL has no place for it, and dropping
      // credentials silently would be worse than refusing them.
      return {{}, errors::make("user info is not supported")};
    }
    auto [host, herr] = parse_host(authority);
    if (herr) return {{}, herr};
    url.host = std::move(host);
  }
  if (auto err = set_path(url, rest)) return {{}, err};
  return {std::move(url), nullptr};
}

}  // namespace

namespace {

// Go's url.Parse (with the limits of parse above).
Result<URL> parse_go(std::string_view raw) {
  std::string_view u = raw, frag;
  bool has_frag = false;
  if (auto h = raw.find('#'); h != std::string_view::npos) {
    u = raw.substr(0, h);
    frag = raw.substr(h + 1);
    has_frag = true;
  }
  auto [url, err] = parse(u, false);
  if (err) return {{}, url_error(u, err)};
  if (!has_frag || frag.empty()) return {std::move(url), nullptr};
  auto [f, ferr] = unescape(frag, Encoding::kFragment);
  if (ferr) return {{}, url_error(raw, ferr)};
  url.fragment = std::move(f);
  return {std::move(url), nullptr};
}

}  // namespace

Result<URL> parse_url(std::string_view raw) {
  if (!raw.empty() && raw[0] == '/') {
    // Origin-form: ParseRequestURI's rules, as Go's server reads a request target with them:
    // "//x" is a path, not an authority, and '#' is part of the path (no fragment).
    auto [url, err] = parse(raw, true);
    if (err) return {{}, url_error(raw, err)};
    return {std::move(url), nullptr};
  }
  return parse_go(raw);
}

Values URL::query() const { return parse_query(raw_query).value; }

std::string URL::escaped_path() const {
  if (!raw_path.empty() && valid_encoded(raw_path, Encoding::kPath)) {
    auto [p, err] = unescape(raw_path, Encoding::kPath);
    if (!err && p == path) return raw_path;
  }
  if (path == "*") return "*";  // don't escape (Issue 11202)
  return escape(path, Encoding::kPath);
}

std::string URL::request_uri() const {
  std::string result = escaped_path();
  if (result.empty()) result = "/";
  if (!raw_query.empty()) {
    result += '?';
    result += raw_query;
  }
  return result;
}

std::string URL::string() const {
  std::string buf;
  if (!scheme.empty()) {
    buf += scheme;
    buf += ':';
  }
  std::string p = escaped_path();
  if (!scheme.empty() || !host.empty()) {
    if (!host.empty() || !path.empty()) buf += "//";
    buf += escape(host, Encoding::kHost);
  }
  if (!p.empty() && p[0] != '/' && !host.empty()) buf += '/';
  if (buf.empty()) {
    // RFC 3986 §4.2: a relative path whose first segment has a colon needs "./".
    std::string_view segment = std::string_view(p).substr(0, p.find('/'));
    if (segment.find(':') != std::string_view::npos) buf += "./";
  }
  buf += p;
  if (!raw_query.empty()) {
    buf += '?';
    buf += raw_query;
  }
  if (!fragment.empty()) {
    buf += '#';
    buf += escape(fragment, Encoding::kFragment);
  }
  return buf;
}

// ---- bodies -----------------------------------------------------------------------------------

namespace {

class StringSource final : public detail::BodySource {
 public:
  explicit StringSource(std::string s) : data_(std::move(s)) {}
  Result<std::size_t> read(std::span<char> buf) override {
    // strings.Reader: (0, EOF) once everything was read.
    if (pos_ >= data_.size()) return {0, io::eof};
    std::size_t n = std::min(buf.size(), data_.size() - pos_);
    std::memcpy(buf.data(), data_.data() + pos_, n);
    pos_ += n;
    return {n, nullptr};
  }
  error close() override { return nullptr; }

 private:
  std::string data_;
  std::size_t pos_ = 0;
};

}  // namespace

Body Body::from_string(std::string content) {
  return Body(std::make_shared<StringSource>(std::move(content)));
}

Result<std::size_t> Body::read(std::span<char> buf) {
  if (!source_) return {0, io::eof};
  return source_->read(buf);
}

Result<std::string> Body::read_all() {
  std::string out;
  if (!source_) return {std::move(out), nullptr};
  std::size_t len = 0;
  out.resize(512);
  for (;;) {
    if (len == out.size()) out.resize(out.size() * 2);
    auto [n, err] = source_->read(std::span<char>(out.data() + len, out.size() - len));
    len += n;
    if (err) {
      out.resize(len);
      if (err == io::eof) return {std::move(out), nullptr};
      return {std::move(out), err};
    }
  }
}

error Body::close() {
  if (!source_) return nullptr;
  return source_->close();
}

// ---- requests ---------------------------------------------------------------------------------

const context::Context& Request::context() const {
  if (ctx_) return ctx_;
  static const context::Context* const bg = new context::Context(context::background());
  return *bg;
}

Request Request::with_context(context::Context ctx) const {
  if (!ctx) gocxx::panic("nil context");
  Request r = *this;
  r.ctx_ = std::move(ctx);
  return r;
}

std::string Request::path_value(std::string_view name) const {
  for (const auto& [k, v] : path_values_) {
    if (k == name) return v;
  }
  return "";
}

void Request::set_path_value(std::string name, std::string value) {
  for (auto& [k, v] : path_values_) {
    if (k == name) {
      v = std::move(value);
      return;
    }
  }
  path_values_.emplace_back(std::move(name), std::move(value));
}

std::string Request::form_value(std::string_view key) const { return url.query().get(key); }

namespace {

// Go's hasPort / removeEmptyPort.
std::string remove_empty_port(std::string host) {
  auto colon = host.rfind(':');
  auto bracket = host.rfind(']');
  bool has_port = colon != std::string::npos && (bracket == std::string::npos || colon > bracket);
  if (has_port && !host.empty() && host.back() == ':') host.pop_back();
  return host;
}

}  // namespace

Result<Request> new_request_with_context(const context::Context& ctx, std::string_view method,
                                         std::string_view url, std::string body) {
  if (method.empty()) method = "GET";  // Go's documented default
  if (!valid_token(method)) {
    return {{}, errors::make("net/http: invalid method " + detail::go_quote(method))};
  }
  if (!ctx) return {{}, errors::make("net/http: nil Context")};
  auto [u, err] = parse_url(url);
  if (err) return {{}, err};
  u.host = remove_empty_port(std::move(u.host));
  Request req;
  req.method = std::string(method);
  req.host = u.host;
  req.url = std::move(u);
  if (!body.empty()) {
    // Go: a strings.Reader body sets ContentLength; an empty one becomes NoBody.
    req.content_length = static_cast<std::int64_t>(body.size());
    req.body = Body::from_string(std::move(body));
  }
  return {req.with_context(ctx), nullptr};
}

Result<Request> new_request(std::string_view method, std::string_view url, std::string body) {
  return new_request_with_context(context::background(), method, url, std::move(body));
}

// ---- handlers ---------------------------------------------------------------------------------

namespace {

class FuncHandler final : public Handler {
 public:
  explicit FuncHandler(HandlerFunc f) : f_(std::move(f)) {}
  void serve_http(ResponseWriter& w, Request& r) override { f_(w, r); }

 private:
  HandlerFunc f_;
};

// Go's hexEscapeNonASCII (lower-case hex digits, as strconv.AppendInt writes them).
std::string hex_escape_non_ascii(std::string_view s) {
  std::string out;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c >= 0x80) {
      out += '%';
      out += "0123456789abcdef"[c >> 4];
      out += "0123456789abcdef"[c & 15];
    } else {
      out += ch;
    }
  }
  return out;
}

}  // namespace

// An empty function is a nil handler (Go's HandlerFunc(nil), which ServeMux refuses).
HandlerRef::HandlerRef(HandlerFunc f) {
  if (!f) return;
  owned_ = std::make_shared<FuncHandler>(std::move(f));
  ref_ = owned_.get();
}

void error_reply(ResponseWriter& w, std::string_view msg, int code) {
  Header& h = w.header();
  // Go 1.23: a Content-Length set by the handler would not match the message.
  h.del("Content-Length");
  h.set("Content-Type", "text/plain; charset=utf-8");
  h.set("X-Content-Type-Options", "nosniff");
  w.write_header(code);
  std::string body(msg);
  body += '\n';
  (void)w.write(body);
}

void not_found(ResponseWriter& w, Request&) {
  error_reply(w, "404 page not found", status_not_found);
}

void redirect(ResponseWriter& w, Request& r, std::string_view url_in, int code) {
  std::string url(url_in);
  if (auto u = parse_go(url); !u.err) {
    // If url was relative, make its path absolute by combining it with the request path.
    if (u.value.scheme.empty() && u.value.host.empty()) {
      std::string oldpath = r.url.path;
      if (oldpath.empty()) oldpath = "/";  // should not happen, but avoid a crash if it does
      if (url.empty() || url[0] != '/') {
        // Make the relative path absolute: path.Split's directory part.
        std::string olddir = oldpath.substr(0, oldpath.rfind('/') + 1);
        url = olddir + url;
      }
      std::string query;
      if (auto q = url.find('?'); q != std::string::npos) {
        query = url.substr(q);
        url.resize(q);
      }
      // Clean up but preserve the trailing slash.
      bool trailing = !url.empty() && url.back() == '/';
      url = detail::path_clean(url);
      if (trailing && url.back() != '/') url += '/';
      url += query;
    }
  }
  Header& h = w.header();
  // RFC 7231 notes that a short HTML body is usually included in the response because older
  // user agents may not understand 301/307. Only if the response has no Content-Type yet.
  const bool had_ct = h.has("Content-Type");
  h.set("Location", hex_escape_non_ascii(url));
  if (!had_ct && (r.method == "GET" || r.method == "HEAD")) {
    h.set("Content-Type", "text/html; charset=utf-8");
  }
  w.write_header(code);
  // Shouldn't send the body for POST or HEAD; that leaves GET.
  if (!had_ct && r.method == "GET") {
    std::string body = "<a href=\"" + html::escape_string(url) + "\">" + std::string(status_text(code)) +
                       "</a>.\n";
    body += '\n';  // Go writes it with Fprintln
    (void)w.write(body);
  }
}

HandlerRef strip_prefix(std::string prefix, HandlerRef h) {
  if (prefix.empty()) return h;
  return HandlerRef(HandlerFunc([prefix = std::move(prefix), h](ResponseWriter& w, Request& r) {
    auto trim = [&](const std::string& s) {
      return s.compare(0, prefix.size(), prefix) == 0 ? s.substr(prefix.size()) : s;
    };
    std::string p = trim(r.url.path);
    std::string rp = trim(r.url.raw_path);
    if (p.size() < r.url.path.size() &&
        (r.url.raw_path.empty() || rp.size() < r.url.raw_path.size())) {
      Request r2 = r;
      r2.url.path = std::move(p);
      r2.url.raw_path = std::move(rp);
      h.serve_http(w, r2);
    } else {
      not_found(w, r);
    }
  }));
}

ServeMux& default_serve_mux() {
  // Never destroyed: handlers may still run on goroutines while the process exits.
  static ServeMux* const mux = new ServeMux;
  return *mux;
}

void handle(std::string_view pattern, HandlerRef handler) {
  default_serve_mux().handle(pattern, std::move(handler));
}

void handle_func(std::string_view pattern, HandlerFunc handler) {
  default_serve_mux().handle_func(pattern, std::move(handler));
}

}  // namespace gocxx::http

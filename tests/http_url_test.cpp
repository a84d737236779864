// gocxx::http's value types against Go's tables: status texts (net/http/status.go), canonical
// header keys (net/textproto), Header, url.Values and query parsing, escaping and URL parsing
// (net/url/url_test.go), Body, Request, NewRequest, and the reply helpers Error, NotFound,
// Redirect, StripPrefix (net/http/serve_test.go), checked through a small ResponseWriter.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gocxx/defer.hpp"
#include "gocxx/html.hpp"
#include "gocxx/http.hpp"
#include "gocxx/io.hpp"

#include "http_test_util.hpp"
#include "pkg/http/text.hpp"

namespace http = gocxx::http;
using ::testing::HasSubstr;

namespace {

using Recorder = gocxx::test::ResponseRecorder;

}  // namespace

// ---- status texts -------------------------------------------------------------------------

TEST(HttpStatusText, GoTable) {
  const std::vector<std::pair<int, std::string>> table = {
      {100, "Continue"}, {101, "Switching Protocols"}, {102, "Processing"}, {103, "Early Hints"},
      {200, "OK"}, {201, "Created"}, {202, "Accepted"}, {203, "Non-Authoritative Information"},
      {204, "No Content"}, {205, "Reset Content"}, {206, "Partial Content"},
      {207, "Multi-Status"}, {208, "Already Reported"}, {226, "IM Used"},
      {300, "Multiple Choices"}, {301, "Moved Permanently"}, {302, "Found"},
      {303, "See Other"}, {304, "Not Modified"}, {305, "Use Proxy"},
      {307, "Temporary Redirect"}, {308, "Permanent Redirect"}, {400, "Bad Request"},
      {401, "Unauthorized"}, {402, "Payment Required"}, {403, "Forbidden"}, {404, "Not Found"},
      {405, "Method Not Allowed"}, {406, "Not Acceptable"},
      {407, "Proxy Authentication Required"}, {408, "Request Timeout"}, {409, "Conflict"},
      {410, "Gone"}, {411, "Length Required"}, {412, "Precondition Failed"},
      {413, "Request Entity Too Large"}, {414, "Request URI Too Long"},
      {415, "Unsupported Media Type"}, {416, "Requested Range Not Satisfiable"},
      {417, "Expectation Failed"}, {418, "I'm a teapot"}, {421, "Misdirected Request"},
      {422, "Unprocessable Entity"}, {423, "Locked"}, {424, "Failed Dependency"},
      {425, "Too Early"}, {426, "Upgrade Required"}, {428, "Precondition Required"},
      {429, "Too Many Requests"}, {431, "Request Header Fields Too Large"},
      {451, "Unavailable For Legal Reasons"}, {500, "Internal Server Error"},
      {501, "Not Implemented"}, {502, "Bad Gateway"}, {503, "Service Unavailable"},
      {504, "Gateway Timeout"}, {505, "HTTP Version Not Supported"},
      {506, "Variant Also Negotiates"}, {507, "Insufficient Storage"}, {508, "Loop Detected"},
      {510, "Not Extended"}, {511, "Network Authentication Required"},
  };
  for (const auto& [code, text] : table) EXPECT_EQ(http::status_text(code), text) << code;
  for (int unknown : {0, 99, 199, 306, 419, 509, 512, 999, -1}) {
    EXPECT_EQ(http::status_text(unknown), "") << unknown;
  }
  EXPECT_EQ(http::status_text(http::status_request_header_fields_too_large),
            "Request Header Fields Too Large");
}

// ---- headers ------------------------------------------------------------------------------

// net/textproto's and net/http's canonicalHeaderKey tests.
TEST(HttpCanonicalHeaderKey, GoTable) {
  const std::vector<std::pair<std::string, std::string>> table = {
      {"a-b-c", "A-B-C"},
      {"a-1-c", "A-1-C"},
      {"User-Agent", "User-Agent"},
      {"uSER-aGENT", "User-Agent"},
      {"user-agent", "User-Agent"},
      {"USER-AGENT", "User-Agent"},
      {"content-type", "Content-Type"},
      {"www-authenticate", "Www-Authenticate"},
      // Other valid tchar bytes in tokens.
      {"foo-bar_baz", "Foo-Bar_baz"},
      {"foo-bar$baz", "Foo-Bar$baz"},
      {"foo-bar~baz", "Foo-Bar~baz"},
      {"foo-bar*baz", "Foo-Bar*baz"},
      // Non-ASCII or anything with spaces or non-token chars is unchanged.
      {"üser-agenT", "üser-agenT"},
      {"a B", "a B"},
      {"C Ontent-Transfer-Encoding", "C Ontent-Transfer-Encoding"},
      {"foo bar", "foo bar"},
      {"foo:bar", "foo:bar"},
      {"x-\x01", "x-\x01"},
      {"", ""},
  };
  for (const auto& [in, want] : table) EXPECT_EQ(http::canonical_header_key(in), want) << in;
}

TEST(HttpHeader, SetAddGetValuesDel) {
  http::Header h;
  EXPECT_TRUE(h.empty());
  EXPECT_EQ(h.get("X"), "");
  EXPECT_EQ(h.values("X"), nullptr);
  h.set("content-type", "text/plain");
  EXPECT_EQ(h.get("Content-Type"), "text/plain");
  EXPECT_EQ(h.get("CONTENT-TYPE"), "text/plain");
  EXPECT_TRUE(h.has("content-TYPE"));
  h.add("x-multi", "1");
  h.add("X-Multi", "2");
  ASSERT_NE(h.values("x-multi"), nullptr);
  EXPECT_EQ(*h.values("x-multi"), (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(h.get("X-Multi"), "1");
  h.set("X-MULTI", "3");  // replaces every value
  EXPECT_EQ(*h.values("X-Multi"), (std::vector<std::string>{"3"}));
  EXPECT_EQ(h.size(), 2u);
  h.del("x-multi");
  EXPECT_FALSE(h.has("X-Multi"));
  h.del("absent");  // no-op
  EXPECT_EQ(h.size(), 1u);
  std::vector<std::string> keys;
  for (const auto& [k, v] : h) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"Content-Type"}));
  // A key with a non-token byte is kept verbatim (Go's CanonicalMIMEHeaderKey): only the exact
  // spelling finds it, while token keys match whatever their case.
  h.set("foo bar", "x");
  EXPECT_EQ(h.get("foo bar"), "x");
  EXPECT_EQ(h.get("FOO BAR"), "");
  EXPECT_EQ(h.get("Foo bar"), "");
  h.add("a-b", "1");
  h.add("A-B", "2");
  EXPECT_EQ(*h.values("a-B"), (std::vector<std::string>{"1", "2"}));
  keys.clear();
  for (const auto& [k, v] : h) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"A-B", "Content-Type", "foo bar"}));  // sorted
}

// net/http's headerWriteTests, plus the CR/LF rule.
TEST(HttpHeader, WriteSortedAndSanitized) {
  auto write = [](const http::Header& h) {
    std::string out;
    h.write(out);
    return out;
  };
  http::Header h1;
  h1.set("Content-Type", "text/html; charset=UTF-8");
  h1.set("Content-Length", "0");
  EXPECT_EQ(write(h1), "Content-Length: 0\r\nContent-Type: text/html; charset=UTF-8\r\n");

  http::Header h2;
  for (auto v : {"0", "1", "2"}) h2.add("Content-Length", v);
  EXPECT_EQ(write(h2), "Content-Length: 0\r\nContent-Length: 1\r\nContent-Length: 2\r\n");

  http::Header h3;
  h3.set("Blank", "");
  EXPECT_EQ(write(h3), "Blank: \r\n");

  http::Header h4;
  h4.add("k1", "1a");
  h4.add("k1", "1b");
  h4.add("k2", "2a");
  h4.add("k2", "2b");
  EXPECT_EQ(write(h4), "K1: 1a\r\nK1: 1b\r\nK2: 2a\r\nK2: 2b\r\n");

  // Sorted bytewise, as Go's sort.Strings: K10 before K9.
  http::Header h5;
  for (int i = 1; i <= 10; ++i) h5.set("k" + std::to_string(i), std::to_string(i));
  EXPECT_EQ(write(h5),
            "K1: 1\r\nK10: 10\r\nK2: 2\r\nK3: 3\r\nK4: 4\r\nK5: 5\r\nK6: 6\r\nK7: 7\r\nK8: 8\r\n"
            "K9: 9\r\n");

  // A value cannot inject a header; surrounding white space is trimmed; invalid keys are
  // skipped.
  http::Header h6;
  h6.set("X-Evil", "a\r\nX-Injected: 1");
  h6.set("X-Space", "  padded\t");
  h6.set("Bad Key", "dropped");
  h6.set("X-Lf", "line1\nline2\n");
  EXPECT_EQ(write(h6),
            "X-Evil: a  X-Injected: 1\r\nX-Lf: line1 line2\r\nX-Space: padded\r\n");
}

// path_test.go's cleantests (Go's path.Clean, which Redirect and ServeMux use).
TEST(HttpPathClean, GoTable) {
  const std::vector<std::pair<std::string, std::string>> table = {
      // Already clean
      {"", "."}, {"abc", "abc"}, {"abc/def", "abc/def"}, {"a/b/c", "a/b/c"}, {".", "."},
      {"..", ".."}, {"../..", "../.."}, {"../../abc", "../../abc"}, {"/abc", "/abc"}, {"/", "/"},
      // Remove trailing slash
      {"abc/", "abc"}, {"abc/def/", "abc/def"}, {"a/b/c/", "a/b/c"}, {"./", "."}, {"../", ".."},
      {"../../", "../.."}, {"/abc/", "/abc"},
      // Remove doubled slash
      {"abc//def//ghi", "abc/def/ghi"}, {"//abc", "/abc"}, {"///abc", "/abc"},
      {"//abc//", "/abc"}, {"abc//", "abc"},
      // Remove . elements
      {"abc/./def", "abc/def"}, {"/./abc/def", "/abc/def"}, {"abc/.", "abc"},
      // Remove .. elements
      {"abc/def/ghi/../jkl", "abc/def/jkl"}, {"abc/def/../ghi/../jkl", "abc/jkl"},
      {"abc/def/..", "abc"}, {"abc/def/../..", "."}, {"/abc/def/../..", "/"},
      {"abc/def/../../..", ".."}, {"/abc/def/../../..", "/"},
      {"abc/def/../../../ghi/jkl/../../../mno", "../../mno"},
      // Combinations
      {"abc/./../def", "def"}, {"abc//./../def", "def"}, {"abc/../../././../def", "../../def"},
  };
  for (const auto& [in, want] : table) EXPECT_EQ(http::detail::path_clean(in), want) << in;
}

// ---- escaping -----------------------------------------------------------------------------

struct EscapeTest {
  std::string in, out, err;  // err: the error message, "" for none
};

// url_test.go's unescapeTests, run through QueryUnescape and PathUnescape as TestUnescape does.
TEST(HttpUnescape, GoTable) {
  const std::vector<EscapeTest> table = {
      {"", "", ""},
      {"abc", "abc", ""},
      {"1%41", "1A", ""},
      {"1%41%42%43", "1ABC", ""},
      {"%4a", "J", ""},
      {"%6F", "o", ""},
      {"%", "", "invalid URL escape \"%\""},        // not enough characters after %
      {"%a", "", "invalid URL escape \"%a\""},      // not enough characters after %
      {"%1", "", "invalid URL escape \"%1\""},      // not enough characters after %
      {"123%45%6", "", "invalid URL escape \"%6\""},  // not enough characters after %
      {"%zzzzz", "", "invalid URL escape \"%zz\""},   // invalid hex digits
      {"a+b", "a b", ""},
      {"a%20b", "a b", ""},
  };
  auto replace_all = [](std::string s, const std::string& from, const std::string& to) {
    for (std::size_t p = 0; (p = s.find(from, p)) != std::string::npos; p += to.size()) {
      s.replace(p, from.size(), to);
    }
    return s;
  };
  for (const auto& tt : table) {
    auto [actual, err] = http::query_unescape(tt.in);
    EXPECT_EQ(actual, tt.out) << tt.in;
    EXPECT_EQ(err ? err.message() : "", tt.err) << tt.in;

    std::string in = tt.in, out = tt.out;
    if (tt.in.find('+') != std::string::npos) {
      in = replace_all(tt.in, "+", "%20");
      auto [a2, e2] = http::path_unescape(in);
      EXPECT_EQ(a2, tt.out) << in;
      EXPECT_EQ(static_cast<bool>(e2), !tt.err.empty()) << in;
      if (tt.err.empty()) {
        auto [s, e3] = http::query_unescape(replace_all(tt.in, "+", "XXX"));
        if (e3) continue;
        in = tt.in;
        out = replace_all(s, "XXX", "+");
      }
    }
    auto [a4, e4] = http::path_unescape(in);
    EXPECT_EQ(a4, out) << in;
    EXPECT_EQ(e4 ? e4.message() : "", tt.err) << in;
  }
}

TEST(HttpQueryEscape, GoTable) {
  const std::vector<std::pair<std::string, std::string>> table = {
      {"", ""},
      {"abc", "abc"},
      {"one two", "one+two"},
      {"10%", "10%25"},
      {" ?&=#+%!<>#\"{}|\\^[]`☺\t:/@$'()*,;",
       "+%3F%26%3D%23%2B%25%21%3C%3E%23%22%7B%7D%7C%5C%5E%5B%5D%60%E2%98%BA%09%3A%2F%40%24%27%28%"
       "29%2A%2C%3B"},
  };
  for (const auto& [in, out] : table) {
    EXPECT_EQ(http::query_escape(in), out) << in;
    auto [rt, err] = http::query_unescape(out);  // escape:unescape is an identity
    EXPECT_EQ(rt, in);
    EXPECT_FALSE(err);
  }
}

TEST(HttpPathEscape, GoTable) {
  const std::vector<std::pair<std::string, std::string>> table = {
      {"", ""},
      {"abc", "abc"},
      {"abc+def", "abc+def"},
      {"a/b", "a%2Fb"},
      {"one two", "one%20two"},
      {"10%", "10%25"},
      {" ?&=#+%!<>#\"{}|\\^[]`☺\t:/@$'()*,;",
       "%20%3F&=%23+%25%21%3C%3E%23%22%7B%7D%7C%5C%5E%5B%5D%60%E2%98%BA%09:%2F@$%27%28%29%2A%2C%3B"},
  };
  for (const auto& [in, out] : table) {
    EXPECT_EQ(http::path_escape(in), out) << in;
    auto [rt, err] = http::path_unescape(out);
    EXPECT_EQ(rt, in);
    EXPECT_FALSE(err);
  }
}

// ---- url.Values ---------------------------------------------------------------------------

// Go's html.EscapeString (escape_test.go's cases that escape).
TEST(HtmlEscapeString, GoTable) {
  EXPECT_EQ(gocxx::html::escape_string(""), "");
  EXPECT_EQ(gocxx::html::escape_string("abc def"), "abc def");
  EXPECT_EQ(gocxx::html::escape_string("a&b"), "a&amp;b");
  EXPECT_EQ(gocxx::html::escape_string("<b>\"Tom\" & 'Jerry'</b>"),
            "&lt;b&gt;&#34;Tom&#34; &amp; &#39;Jerry&#39;&lt;/b&gt;");
  EXPECT_EQ(gocxx::html::escape_string("&amp;"), "&amp;amp;");  // not idempotent, as Go's
  EXPECT_EQ(gocxx::html::escape_string(std::string("nul\0byte", 8)), std::string("nul\0byte", 8));
}

TEST(HttpValues, GetSetAddHasDel) {  // url_test.go's TestValues
  http::Values v;
  v.set("foo", "bar");
  v.add("foo", "bar2");
  v.set("bar", "1");
  v.add("bar", "2");
  v.set("baz", "");
  EXPECT_EQ(v.get("foo"), "bar");
  EXPECT_EQ(v.get("bar"), "1");
  EXPECT_EQ(v.get("baz"), "");
  EXPECT_TRUE(v.has("foo"));
  EXPECT_TRUE(v.has("bar"));
  EXPECT_TRUE(v.has("baz"));
  EXPECT_FALSE(v.has("noexist"));
  EXPECT_EQ(*v.values("bar"), (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(v.values("noexist"), nullptr);
  v.del("bar");
  EXPECT_EQ(v.get("bar"), "");
  EXPECT_FALSE(v.has("bar"));
  EXPECT_EQ(http::Values().get("x"), "");
  EXPECT_EQ(http::Values().encode(), "");
}

TEST(HttpValues, EncodeGoTable) {
  http::Values a;
  a.set("q", "puppies");
  a.set("oe", "utf8");
  EXPECT_EQ(a.encode(), "oe=utf8&q=puppies");
  http::Values b;
  for (auto s : {"dogs", "&", "7"}) b.add("q", s);
  EXPECT_EQ(b.encode(), "q=dogs&q=%26&q=7");
  http::Values c;
  for (auto k : {"c", "b", "a"}) {
    for (int i = 1; i <= 3; ++i) c.add(k, k + std::to_string(i));
  }
  EXPECT_EQ(c.encode(), "a=a1&a=a2&a=a3&b=b1&b=b2&b=b3&c=c1&c=c2&c=c3");
  http::Values d;
  d.set("a b", "c&d=e");
  EXPECT_EQ(d.encode(), "a+b=c%26d%3De");
}

// url_test.go's parseTests.
TEST(HttpParseQuery, GoTable) {
  struct Case {
    std::string query;
    std::vector<std::pair<std::string, std::vector<std::string>>> out;
    bool ok;
  };
  const std::vector<Case> table = {
      {"a=1", {{"a", {"1"}}}, true},
      {"a=1&b=2", {{"a", {"1"}}, {"b", {"2"}}}, true},
      {"a=1&a=2&a=banana", {{"a", {"1", "2", "banana"}}}, true},
      {"ascii=%3Ckey%3A+0x90%3E", {{"ascii", {"<key: 0x90>"}}}, true},
      {"a=1;b=2", {}, false},
      {"a;b=1", {}, false},
      {"a=%3B", {{"a", {";"}}}, true},
      {"a%3Bb=1", {{"a;b", {"1"}}}, true},
      {"a=1&a=2;a=banana", {{"a", {"1"}}}, false},
      {"a;b&c=1", {{"c", {"1"}}}, false},
      {"a=1&b=2;a=3&c=4", {{"a", {"1"}}, {"c", {"4"}}}, false},
      {"a=1&b=2;c=3", {{"a", {"1"}}}, false},
      {";", {}, false},
      {"a=1;", {}, false},
      {"a=1&;", {{"a", {"1"}}}, false},
      {";a=1&b=2", {{"b", {"2"}}}, false},
      {"a=1&b=2;", {{"a", {"1"}}}, false},
      // Invalid escapes: the first error, the other parameters still parsed.
      {"a=%zz&b=2&c=%", {{"b", {"2"}}}, false},
      {"&&x&y=", {{"x", {""}}, {"y", {""}}}, true},
  };
  for (const auto& tt : table) {
    auto [form, err] = http::parse_query(tt.query);
    EXPECT_EQ(tt.ok, !err) << tt.query << ": " << err;
    std::string got, want;
    for (const auto& [k, vs] : tt.out) {
      const auto* have = form.values(k);
      ASSERT_NE(have, nullptr) << tt.query << " missing " << k;
      EXPECT_EQ(*have, vs) << tt.query << " key " << k;
    }
    // No other keys: re-encoding gives exactly the expected parameters.
    http::Values expected;
    for (const auto& [k, vs] : tt.out) {
      for (const auto& v : vs) expected.add(k, v);
    }
    EXPECT_EQ(form.encode(), expected.encode()) << tt.query;
  }
  EXPECT_EQ(http::parse_query("a=%zz&b=%").err.message(), "invalid URL escape \"%zz\"");
  EXPECT_EQ(http::parse_query("a=%zz&b;c").err.message(), "invalid semicolon separator in query");
}

// ---- URLs ---------------------------------------------------------------------------------

struct UrlCase {
  std::string in;
  std::string scheme, host, path, raw_path, raw_query, fragment;
  std::string roundtrip;  // "" : same as in
};

// The cases of url_test.go's urltests that gocxx's URL can hold (no user info, no opaque
// URLs, no ForceQuery/RawFragment fields).
TEST(HttpParseUrl, GoTable) {
  const std::vector<UrlCase> table = {
      {"http://www.google.com", "http", "www.google.com", "", "", "", "", ""},
      {"http://www.google.com/", "http", "www.google.com", "/", "", "", "", ""},
      {"http://www.google.com/file%20one%26two", "http", "www.google.com", "/file one&two",
       "/file%20one%26two", "", "", ""},
      {"http://www.google.com/#file%20one%26two", "http", "www.google.com", "/", "", "",
       "file one&two", "http://www.google.com/#file%20one&two"},
      {"http://www.google.com/?foo=bar?", "http", "www.google.com", "/", "", "foo=bar?", "", ""},
      {"http://www.google.com/?q=go+language", "http", "www.google.com", "/", "",
       "q=go+language", "", ""},
      {"http://www.google.com/?q=go%20language", "http", "www.google.com", "/", "",
       "q=go%20language", "", ""},
      {"http://www.google.com/a%20b?q=c+d", "http", "www.google.com", "/a b", "", "q=c+d", "",
       ""},
      {"/foo?query=http://bad", "", "", "/foo", "", "query=http://bad", "", ""},
      {"http://www.google.com/?q=go+language#foo", "http", "www.google.com", "/", "",
       "q=go+language", "foo", ""},
      {"http://www.google.com/?q=go+language#foo&bar", "http", "www.google.com", "/", "",
       "q=go+language", "foo&bar", ""},
      {"http://www.google.com/?q=go+language#foo%26bar", "http", "www.google.com", "/", "",
       "q=go+language", "foo&bar", "http://www.google.com/?q=go+language#foo&bar"},
      {"file:///home/adg/rabbits", "file", "", "/home/adg/rabbits", "", "", "", ""},
      {"file:///C:/FooBar/Baz.txt", "file", "", "/C:/FooBar/Baz.txt", "", "", "", ""},
      {"a/b/c", "", "", "a/b/c", "", "", "", ""},
      {"http://192.168.0.1/", "http", "192.168.0.1", "/", "", "", "", ""},
      {"http://192.168.0.1:8080/", "http", "192.168.0.1:8080", "/", "", "", "", ""},
      {"http://[fe80::1]/", "http", "[fe80::1]", "/", "", "", "", ""},
      {"http://[fe80::1]:8080/", "http", "[fe80::1]:8080", "/", "", "", "", ""},
      {"http://[fe80::1%25en0]/", "http", "[fe80::1%en0]", "/", "", "", "", ""},
      {"http://[fe80::1%25en0]:8080/", "http", "[fe80::1%en0]:8080", "/", "", "", "", ""},
      {"http://[fe80::1%25%65%6e%301-._~]/", "http", "[fe80::1%en01-._~]", "/", "", "", "",
       "http://[fe80::1%25en01-._~]/"},
      {"http://[fe80::1%25%65%6e%301-._~]:8080/", "http", "[fe80::1%en01-._~]:8080", "/", "",
       "", "", "http://[fe80::1%25en01-._~]:8080/"},
      {"http://rest.rsc.io/foo%2fbar/baz%2Fquux?alt=media", "http", "rest.rsc.io",
       "/foo/bar/baz/quux", "/foo%2fbar/baz%2Fquux", "alt=media", "", ""},
      {"mysql://a,b,c/bar", "mysql", "a,b,c", "/bar", "", "", "", ""},
      {"scheme://!$&'()*+,;=hello!:1/path", "scheme", "!$&'()*+,;=hello!:1", "/path", "", "",
       "", ""},
      {"http://host/!$&'()*+,;=:@[hello]", "http", "host", "/!$&'()*+,;=:@[hello]",
       "/!$&'()*+,;=:@[hello]", "", "", ""},
      {"http://example.com/oid/[order_id]", "http", "example.com", "/oid/[order_id]",
       "/oid/[order_id]", "", "", ""},
      {"http://192.168.0.2:8080/foo", "http", "192.168.0.2:8080", "/foo", "", "", "", ""},
      {"http://[2b01:e34:ef40:7730:8e70:5aff:fefe:edac]:8080/foo", "http",
       "[2b01:e34:ef40:7730:8e70:5aff:fefe:edac]:8080", "/foo", "", "", "", ""},
      {"http://hello.世界.com/foo", "http", "hello.世界.com", "/foo", "", "", "",
       "http://hello.%E4%B8%96%E7%95%8C.com/foo"},
      {"http://hello.%e4%b8%96%e7%95%8c.com/foo", "http", "hello.世界.com", "/foo", "", "", "",
       "http://hello.%E4%B8%96%E7%95%8C.com/foo"},
      {"http://hello.%E4%B8%96%E7%95%8C.com/foo", "http", "hello.世界.com", "/foo", "", "", "",
       ""},
      {"http://example.com//foo", "http", "example.com", "//foo", "", "", "", ""},
      {"myscheme://authority<\"hi\">/foo", "myscheme", "authority<\"hi\">", "/foo", "", "", "",
       ""},
      {"tcp://[2020::2020:20:2020:2020%25Windows%20Loves%20Spaces]:2020", "tcp",
       "[2020::2020:20:2020:2020%Windows Loves Spaces]:2020", "", "", "", "", ""},
      {"magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&dn", "magnet", "", "", "",
       "xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&dn", "", ""},
      {"mailto:?subject=hi", "mailto", "", "", "", "subject=hi", "", ""},
      {"HTTP://Example.COM/x", "http", "Example.COM", "/x", "", "", "", "http://Example.COM/x"},
      {"", "", "", "", "", "", "", ""},
  };
  for (const auto& tt : table) {
    auto [u, err] = http::parse_url(tt.in);
    ASSERT_FALSE(err) << tt.in << ": " << err;
    EXPECT_EQ(u.scheme, tt.scheme) << tt.in;
    EXPECT_EQ(u.host, tt.host) << tt.in;
    EXPECT_EQ(u.path, tt.path) << tt.in;
    EXPECT_EQ(u.raw_path, tt.raw_path) << tt.in;
    EXPECT_EQ(u.raw_query, tt.raw_query) << tt.in;
    EXPECT_EQ(u.fragment, tt.fragment) << tt.in;
    EXPECT_EQ(u.string(), tt.roundtrip.empty() ? tt.in : tt.roundtrip) << tt.in;
  }
}

// Origin-form targets follow ParseRequestURI (url_test.go's parseRequestURLTests): a leading
// "//" is a path, not an authority; '#' stays in the path.
TEST(HttpParseUrl, OriginFormIsParseRequestURI) {
  const std::string scheme_relative = "//not.a.user@not.a.host/just/a/path";
  for (std::string in : {std::string("/"), scheme_relative,
                         std::string("//not.a.user@%66%6f%6f.com/just/a/path/also")}) {
    auto [u, err] = http::parse_url(in);
    EXPECT_FALSE(err) << in << ": " << err;
    EXPECT_EQ(u.host, "") << in;
  }
  EXPECT_EQ(http::parse_url(scheme_relative).value.path, scheme_relative);
  auto [u, err] = http::parse_url("//x/../a?b=c#d");
  ASSERT_FALSE(err);
  EXPECT_EQ(u.path, "//x/../a");
  EXPECT_EQ(u.raw_query, "b=c#d");
  EXPECT_EQ(u.fragment, "");
  EXPECT_EQ(http::parse_url("/a#b").value.path, "/a#b");
  EXPECT_EQ(http::parse_url("/a#b").value.escaped_path(), "/a%23b");
  EXPECT_EQ(http::parse_url("///x").value.path, "///x");
  EXPECT_EQ(http::parse_url("*").value.path, "*");
  EXPECT_EQ(http::parse_url("*").value.request_uri(), "*");
  for (std::string ok : {"http://foo.com", "http://foo.com/", "http://foo.com/path",
                         "http://192.168.0.1/", "http://[fe80::1]:8080/",
                         "http://[fe80::1%25en0]/", "http://[fe80::1%25%65%6e%301-._~]:8080/"}) {
    EXPECT_FALSE(http::parse_url(ok).err) << ok;
  }
  for (std::string bad : {" http://foo.com", "http://192.168.0.%31/", "http://192.168.0.%31:8080/",
                          "http://[fe80::%31]/", "http://[fe80::%31%25en0]:8080/",
                          "http://[fe80::1%en0]/", "http://[fe80::1%en0]:8080/"}) {
    EXPECT_TRUE(http::parse_url(bad).err) << bad;
  }
}

TEST(HttpParseUrl, ErrorsAsGo) {
  const std::vector<std::pair<std::string, std::string>> table = {
      {":foo", "parse \":foo\": missing protocol scheme"},
      {"http://[::1", "parse \"http://[::1\": missing ']' in host"},
      {"http://[::1]a", "parse \"http://[::1]a\": invalid port \"a\" after host"},
      {"http://foo.com:80x/", "parse \"http://foo.com:80x/\": invalid port \":80x\" after host"},
      {"http://a b.com/", "parse \"http://a b.com/\": invalid character \" \" in host name"},
      {"http://foo.com/%zz", "parse \"http://foo.com/%zz\": invalid URL escape \"%zz\""},
      {"/a%2", "parse \"/a%2\": invalid URL escape \"%2\""},
      {"http://foo.com/\x7f", "parse \"http://foo.com/\\x7f\": net/url: invalid control "
                              "character in URL"},
      {"/a\nb", "parse \"/a\\nb\": net/url: invalid control character in URL"},
      {"1a:b", "parse \"1a:b\": first path segment in URL cannot contain colon"},
      {"http://x/#%zz", "parse \"http://x/#%zz\": invalid URL escape \"%zz\""},
      {"http://x/%zz#f", "parse \"http://x/%zz\": invalid URL escape \"%zz\""},
      {"http://192.168.0.%31/", "parse \"http://192.168.0.%31/\": invalid URL escape \"%31\""},
      // gocxx's URL has no fields for these forms.
      {"mailto:webmaster@golang.org", "parse \"mailto:webmaster@golang.org\": opaque URLs are "
                                      "not supported"},
      {"http://user:pw@host/", "parse \"http://user:pw@host/\": user info is not supported"},
  };
  for (const auto& [in, want] : table) {
    auto [u, err] = http::parse_url(in);
    ASSERT_TRUE(err) << in;
    EXPECT_EQ(err.message(), want) << in;
  }
}

TEST(HttpUrl, EscapedPathRequestUriQuery) {
  http::URL u;
  u.path = "/a b/c?d";
  EXPECT_EQ(u.escaped_path(), "/a%20b/c%3Fd");
  u.raw_path = "/a%20b%2Fc";  // does not decode to path: ignored
  EXPECT_EQ(u.escaped_path(), "/a%20b/c%3Fd");
  u.path = "/a b/c";
  EXPECT_EQ(u.escaped_path(), "/a%20b%2Fc");  // a valid encoding of path: used
  u.raw_path = "/a b%2Fc";                    // not validly encoded: ignored
  EXPECT_EQ(u.escaped_path(), "/a%20b/c");

  http::URL e;
  EXPECT_EQ(e.request_uri(), "/");
  e.raw_query = "x=1&y=%20";
  EXPECT_EQ(e.request_uri(), "/?x=1&y=%20");
  EXPECT_EQ(e.query().get("y"), " ");
  auto [p, err] = http::parse_url("http://example.com/a%2Fb/c?q=1&q=2&r");
  ASSERT_FALSE(err);
  EXPECT_EQ(p.request_uri(), "/a%2Fb/c?q=1&q=2&r");
  EXPECT_EQ(*p.query().values("q"), (std::vector<std::string>{"1", "2"}));
  EXPECT_TRUE(p.query().has("r"));

  // stringURLTests.
  http::URL s1;
  s1.scheme = "http";
  s1.host = "www.google.com";
  s1.path = "search";
  EXPECT_EQ(s1.string(), "http://www.google.com/search");
  http::URL s2;
  s2.path = "this:that";
  EXPECT_EQ(s2.string(), "./this:that");
  http::URL s3;
  s3.path = "here/this:that";
  EXPECT_EQ(s3.string(), "here/this:that");
  http::URL s4;
  s4.scheme = "http";
  s4.host = "www.google.com";
  s4.path = "/this:that";
  EXPECT_EQ(s4.string(), "http://www.google.com/this:that");
}

// ---- bodies -------------------------------------------------------------------------------

TEST(HttpBody, EmptyReadsEofAtOnce) {
  http::Body b;
  EXPECT_FALSE(b);
  char buf[8];
  auto [n, err] = b.read(buf);
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(err, gocxx::io::eof);
  auto [all, aerr] = b.read_all();
  EXPECT_EQ(all, "");
  EXPECT_FALSE(aerr);
  EXPECT_FALSE(b.close());
}

TEST(HttpBody, FromStringReadsThenEof) {
  http::Body b = http::Body::from_string("hello, world");
  ASSERT_TRUE(b);
  char buf[5];
  auto r1 = b.read(buf);
  EXPECT_EQ(r1.value, 5u);
  EXPECT_FALSE(r1.err);
  EXPECT_EQ(std::string(buf, 5), "hello");
  http::Body copy = b;  // copies share the stream
  auto rest = copy.read_all();
  EXPECT_EQ(rest.value, ", world");
  EXPECT_FALSE(rest.err);
  auto r2 = b.read(buf);
  EXPECT_EQ(r2.value, 0u);
  EXPECT_EQ(r2.err, gocxx::io::eof);
  EXPECT_FALSE(b.close());
}

TEST(HttpBody, ReadAllLargeAndErrors) {
  std::string big(100000, 'x');
  for (std::size_t i = 0; i < big.size(); i += 7) big[i] = static_cast<char>('a' + i % 26);
  EXPECT_EQ(http::Body::from_string(big).read_all().value, big);

  // A source that fails after some bytes: read_all returns them with the error.
  class Failing final : public http::detail::BodySource {
   public:
    gocxx::Result<std::size_t> read(std::span<char> buf) override {
      if (sent_) return {0, gocxx::errors::make("boom")};
      sent_ = true;
      buf[0] = 'z';
      return {1, nullptr};
    }
    gocxx::error close() override { return gocxx::errors::make("close failed"); }

   private:
    bool sent_ = false;
  };
  http::Body b(std::make_shared<Failing>());
  auto [data, err] = b.read_all();
  EXPECT_EQ(data, "z");
  ASSERT_TRUE(err);
  EXPECT_EQ(err.message(), "boom");
  EXPECT_EQ(b.close().message(), "close failed");
}

// ---- requests -----------------------------------------------------------------------------

TEST(HttpRequest, PathValuesFormValueContext) {
  http::Request r;
  EXPECT_EQ(r.path_value("a"), "");
  r.set_path_value("a", "1");
  r.set_path_value("b", "2");
  r.set_path_value("a", "3");
  EXPECT_EQ(r.path_value("a"), "3");
  EXPECT_EQ(r.path_value("b"), "2");
  r.url.raw_query = "x=1&x=2&y=a+b&bad=%zz";
  EXPECT_EQ(r.form_value("x"), "1");
  EXPECT_EQ(r.form_value("y"), "a b");
  EXPECT_EQ(r.form_value("bad"), "");
  EXPECT_EQ(r.form_value("none"), "");
  // No context: background().
  EXPECT_EQ(r.context(), gocxx::context::background());
  auto [ctx, cancel] = gocxx::context::with_cancel(gocxx::context::background());
  http::Request r2 = r.with_context(ctx);
  EXPECT_EQ(r2.context(), ctx);
  EXPECT_EQ(r.context(), gocxx::context::background());  // the original is unchanged
  EXPECT_EQ(r2.path_value("a"), "3");
  cancel();
  try {
    (void)r.with_context(gocxx::context::Context());
    ADD_FAILURE() << "with_context(nil) did not panic";
  } catch (const gocxx::Panic& p) {
    EXPECT_EQ(p.value().message(), "nil context");
  }
}

TEST(HttpNewRequest, LikeGo) {
  auto [r, err] = http::new_request("POST", "http://example.com:8080/a%20b?q=1#frag", "body!");
  ASSERT_FALSE(err) << err;
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.host, "example.com:8080");
  EXPECT_EQ(r.url.host, "example.com:8080");
  EXPECT_EQ(r.url.path, "/a b");
  EXPECT_EQ(r.url.raw_query, "q=1");
  EXPECT_EQ(r.url.fragment, "frag");
  EXPECT_EQ(r.proto, "HTTP/1.1");
  EXPECT_EQ(r.proto_major, 1);
  EXPECT_EQ(r.proto_minor, 1);
  EXPECT_TRUE(r.header.empty());
  EXPECT_EQ(r.content_length, 5);
  EXPECT_EQ(r.body.read_all().value, "body!");
  EXPECT_EQ(r.context(), gocxx::context::background());

  auto get = http::new_request("", "http://foo.com:/");  // "" means GET; empty port removed
  ASSERT_FALSE(get.err);
  EXPECT_EQ(get.value.method, "GET");
  EXPECT_EQ(get.value.host, "foo.com");
  EXPECT_EQ(get.value.content_length, 0);
  EXPECT_FALSE(get.value.body);
  EXPECT_EQ(http::new_request("GET", "http://[::1]:/").value.host, "[::1]");
  EXPECT_EQ(http::new_request("GET", "http://[::1]/").value.host, "[::1]");

  EXPECT_EQ(http::new_request("bad method", "http://foo.com/").err.message(),
            "net/http: invalid method \"bad method\"");
  EXPECT_EQ(http::new_request("GET\n", "http://foo.com/").err.message(),
            "net/http: invalid method \"GET\\n\"");
  EXPECT_EQ(http::new_request("GET", "http://a b/").err.message(),
            "parse \"http://a b/\": invalid character \" \" in host name");
  EXPECT_EQ(http::new_request_with_context(gocxx::context::Context(), "GET", "http://x/")
                .err.message(),
            "net/http: nil Context");

  auto [ctx, cancel] = gocxx::context::with_cancel(gocxx::context::background());
  auto wc = http::new_request_with_context(ctx, "PUT", "/only/a/path");
  ASSERT_FALSE(wc.err);
  EXPECT_EQ(wc.value.context(), ctx);
  EXPECT_EQ(wc.value.host, "");
  EXPECT_EQ(wc.value.url.path, "/only/a/path");
  cancel();
}

// ---- reply helpers ------------------------------------------------------------------------

TEST(HttpErrorReply, HeadersAndBody) {
  Recorder w;
  w.header().set("Content-Length", "42");
  w.header().set("Content-Type", "application/json");
  http::error_reply(w, "teapot here", 418);
  EXPECT_EQ(w.code(), 418);
  EXPECT_EQ(w.body(), "teapot here\n");
  EXPECT_EQ(w.headers().get("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(w.headers().get("X-Content-Type-Options"), "nosniff");
  EXPECT_FALSE(w.headers().has("Content-Length"));
}

TEST(HttpNotFound, Replies404) {
  Recorder w;
  http::Request r;
  http::not_found(w, r);
  EXPECT_EQ(w.code(), 404);
  EXPECT_EQ(w.body(), "404 page not found\n");
  EXPECT_EQ(w.headers().get("Content-Type"), "text/plain; charset=utf-8");
}

// serve_test.go's TestRedirect.
TEST(HttpRedirect, LocationLikeGo) {
  auto req = http::new_request("GET", "http://example.com/qux/").value;
  const std::vector<std::pair<std::string, std::string>> table = {
      {"http://foobar.com/baz", "http://foobar.com/baz"},    // normal http
      {"https://foobar.com/baz", "https://foobar.com/baz"},  // normal https
      {"test://foobar.com/baz", "test://foobar.com/baz"},    // custom scheme
      {"//foobar.com/baz", "//foobar.com/baz"},              // schemeless
      {"/foobar.com/baz", "/foobar.com/baz"},                // relative to the root
      {"foobar.com/baz", "/qux/foobar.com/baz"},             // relative to the current path
      {"../quux/foobar.com/baz", "/quux/foobar.com/baz"},    // ... going upwards
      {"///foobar.com/baz", "/foobar.com/baz"},              // incorrect number of slashes
      // Verifies we don't path.Clean() on the wrong parts in redirects.
      {"/foo?next=http://bar.com/", "/foo?next=http://bar.com/"},
      {"http://localhost:8080/_ah/login?continue=http://localhost:8080/",
       "http://localhost:8080/_ah/login?continue=http://localhost:8080/"},
      {"/фубар", "/%d1%84%d1%83%d0%b1%d0%b0%d1%80"},
      {"http://foo.com/фубар", "http://foo.com/%d1%84%d1%83%d0%b1%d0%b0%d1%80"},
      {"dir/", "/qux/dir/"},  // the trailing slash is kept
      {"", "/qux/"},
  };
  for (const auto& [in, want] : table) {
    Recorder w;
    http::redirect(w, req, in, 302);
    EXPECT_EQ(w.code(), 302) << in;
    EXPECT_EQ(w.headers().get("Location"), want) << in;
  }
}

// serve_test.go's TestRedirectContentTypeAndBody.
TEST(HttpRedirect, ContentTypeAndBody) {
  struct Case {
    std::string method, ct, want_ct, want_body;
  };
  const std::vector<Case> table = {
      {"GET", "", "text/html; charset=utf-8", "<a href=\"/foo\">Found</a>.\n\n"},
      {"HEAD", "", "text/html; charset=utf-8", ""},
      {"POST", "", "", ""},
      {"DELETE", "", "", ""},
      {"foo", "", "", ""},
      {"GET", "application/test", "application/test", ""},
      {"HEAD", "application/test", "application/test", ""},
      {"POST", "application/test", "application/test", ""},
      {"DELETE", "application/test", "application/test", ""},
      {"foo", "application/test", "application/test", ""},
  };
  for (const auto& tt : table) {
    auto req = http::new_request(tt.method, "http://example.com/qux/").value;
    Recorder w;
    if (!tt.ct.empty()) w.header().set("Content-Type", tt.ct);
    http::redirect(w, req, "/foo", 302);
    EXPECT_EQ(w.code(), 302) << tt.method;
    EXPECT_EQ(w.headers().get("Content-Type"), tt.want_ct) << tt.method << " " << tt.ct;
    EXPECT_EQ(w.body(), tt.want_body) << tt.method << " " << tt.ct;
  }
  // The link is HTML-escaped.
  auto req = http::new_request("GET", "http://example.com/").value;
  Recorder w;
  http::redirect(w, req, "/a?b=<c>&d='e'\"", 301);
  EXPECT_EQ(w.body(), "<a href=\"/a?b=&lt;c&gt;&amp;d=&#39;e&#39;&#34;\">Moved Permanently</a>.\n\n");
}

TEST(HttpRedirect, BadRequestPathDoesNotCrash) {  // TestRedirectBadPath
  http::Request r;
  r.method = "GET";
  r.url.scheme = "http";
  r.url.path = "not-empty-but-no-leading-slash";
  Recorder w;
  http::redirect(w, r, "", 304);
  EXPECT_EQ(w.code(), 304);
}

// serve_test.go's TestStripPrefix, on the handler directly.
TEST(HttpStripPrefix, LikeGo) {
  http::HandlerRef inner([](http::ResponseWriter& w, http::Request& r) {
    w.header().set("X-Path", r.url.path);
    w.header().set("X-RawPath", r.url.raw_path);
  });
  http::HandlerRef h = http::strip_prefix("/foo/bar", inner);
  struct Case {
    std::string req_path, path, raw_path;  // path "": want 404
  };
  const std::vector<Case> table = {
      {"/foo/bar/qux", "/qux", ""},
      {"/foo/bar%2Fqux", "/qux", "%2Fqux"},
      {"/foo%2Fbar/qux", "", ""},  // escaped prefix does not match
      {"/bar", "", ""},            // no prefix match
  };
  for (const auto& tt : table) {
    auto req = http::new_request("GET", "http://example.com" + tt.req_path).value;
    Recorder w;
    h.serve_http(w, req);
    if (tt.path.empty()) {
      EXPECT_EQ(w.code(), 404) << tt.req_path;
      continue;
    }
    EXPECT_EQ(w.code(), 200) << tt.req_path;
    EXPECT_EQ(w.headers().get("X-Path"), tt.path) << tt.req_path;
    EXPECT_EQ(w.headers().get("X-RawPath"), tt.raw_path) << tt.req_path;
    EXPECT_EQ(req.url.path, http::parse_url(tt.req_path).value.path);  // r itself is unchanged
  }
  // An empty prefix returns the handler itself.
  EXPECT_EQ(http::strip_prefix("", inner).get(), inner.get());
}

TEST(HttpHandlerRef, FromFunctionAndNil) {
  http::HandlerRef empty;
  EXPECT_FALSE(empty);
  http::HandlerRef nil_func{http::HandlerFunc()};
  EXPECT_FALSE(nil_func);  // Go's HandlerFunc(nil): a nil handler to ServeMux
  int calls = 0;
  http::HandlerRef f([&calls](http::ResponseWriter& w, http::Request&) {
    ++calls;
    (void)w.write("x");
  });
  ASSERT_TRUE(f);
  http::HandlerRef copy = f;  // shares the function
  EXPECT_EQ(copy.get(), f.get());
  Recorder w;
  http::Request r;
  copy.serve_http(w, r);
  f.serve_http(w, r);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(w.body(), "xx");
}

TEST(HttpDefaultServeMux, PackageHandleFunc) {
  http::handle_func("/gocxx-url-test/{x}", [](http::ResponseWriter& w, http::Request& r) {
    (void)w.write("x=" + r.path_value("x"));
  });
  auto req = http::new_request("GET", "http://h/gocxx-url-test/7").value;
  Recorder w;
  http::default_serve_mux().serve_http(w, req);
  EXPECT_EQ(w.body(), "x=7");
  EXPECT_EQ(req.pattern, "/gocxx-url-test/{x}");
}

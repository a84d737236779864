// ServeMux with Go 1.22 patterns, against the cases of Go's pattern_test.go,
// routing_tree_test.go, server_test.go (TestFindHandler, TestRegisterErr, TestExactMatch,
// TestEscapedPathsAndPatterns, TestCleanPath), serve_test.go (TestServeMuxHandler,
// TestServeWithSlashRedirectForHostPatterns, TestMuxRedirectLeadingSlashes, ...) and
// request_test.go (TestPathValue, TestSetPathValue, TestStatus).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <string>
#include <vector>

#include "gocxx/gocxx.hpp"
#include "gocxx/http.hpp"

#include "http_test_util.hpp"
#include "pkg/http/mux_test_hooks.hpp"
#include "pkg/http/text.hpp"

namespace http = gocxx::http;
using ::testing::HasSubstr;


namespace hd = gocxx::http::detail;

namespace {

using Recorder = gocxx::test::ResponseRecorder;

// The message of the panic f raises ("" if none).
template <class F>
std::string panic_message(F f) {
  try {
    f();
  } catch (const gocxx::Panic& p) {
    return p.value().message();
  }
  return "";
}

// A request as Go's tests build them: &Request{Method, Host, URL: &url.URL{Path: path}}.
http::Request raw_request(std::string method, std::string host, std::string path) {
  http::Request r;
  r.method = std::move(method);
  r.host = std::move(host);
  r.url.path = std::move(path);
  return r;
}

// A request for an origin-form target as a server reads it ("/a%2Fb?x=1").
http::Request target_request(std::string method, std::string host, std::string_view target) {
  http::Request r;
  r.method = std::move(method);
  r.host = std::move(host);
  auto [u, err] = http::parse_url(target);
  EXPECT_FALSE(err) << target << ": " << err;
  r.url = std::move(u);
  r.request_uri = std::string(target);
  return r;
}

// A handler that writes "ok".
http::HandlerRef ok_handler() {
  return http::HandlerRef([](http::ResponseWriter& w, http::Request&) { (void)w.write("ok"); });
}

// Go's serve(code).
http::HandlerRef serve(int code) {
  return http::HandlerRef([code](http::ResponseWriter& w, http::Request&) { w.write_header(code); });
}

// Go's stringHandler: sets the Result header.
http::HandlerRef string_handler(std::string s) {
  return http::HandlerRef(
      [s](http::ResponseWriter& w, http::Request&) { w.header().set("Result", s); });
}

}  // namespace

// ---- pattern parsing (pattern_test.go) ----------------------------------------------------

TEST(MuxParsePattern, GoTable) {
  const std::vector<std::pair<std::string, std::string>> table = {
      {"/", "||multi()"},
      {"/a", "||lit(a)"},
      {"/a/", "||lit(a) multi()"},
      {"/path/to/something", "||lit(path) lit(to) lit(something)"},
      {"/{w1}/lit/{w2}", "||wild(w1) lit(lit) wild(w2)"},
      {"/{w1}/lit/{w2}/", "||wild(w1) lit(lit) wild(w2) multi()"},
      {"example.com/", "|example.com|multi()"},
      {"GET /", "GET||multi()"},
      {"POST example.com/foo/{w}", "POST|example.com|lit(foo) wild(w)"},
      {"/{$}", "||dollar"},
      {"DELETE example.com/a/{foo12}/{$}", "DELETE|example.com|lit(a) wild(foo12) dollar"},
      {"/foo/{$}", "||lit(foo) dollar"},
      {"/{a}/foo/{rest...}", "||wild(a) lit(foo) multi(rest)"},
      {"//", "||lit() multi()"},
      {"/foo///./../bar", "||lit(foo) lit() lit() lit(.) lit(..) lit(bar)"},
      {"a.com/foo//", "|a.com|lit(foo) lit() multi()"},
      {"/%61%62/%7b/%", "||lit(ab) lit({) lit(%)"},
      // Multiple spaces or tabs between method and path.
      {"GET\t  /", "GET||multi()"},
      {"POST \t  example.com/foo/{w}", "POST|example.com|lit(foo) wild(w)"},
      {"DELETE    \texample.com/a/{foo12}/{$}", "DELETE|example.com|lit(a) wild(foo12) dollar"},
      {"/{été}", "||wild(été)"},
      {"/{_x1}", "||wild(_x1)"},
  };
  for (const auto& [in, want] : table) EXPECT_EQ(hd::mux_test_describe(in), want) << in;
}

TEST(MuxParsePattern, ErrorsGoTable) {
  const std::vector<std::pair<std::string, std::string>> table = {
      {"", "empty pattern"},
      {"A=B /", "at offset 0: invalid method"},
      {" ", "at offset 1: host/path missing /"},
      {"/{w}x", "at offset 1: bad wildcard segment"},
      {"/x{w}", "at offset 1: bad wildcard segment"},
      {"/{wx", "at offset 1: bad wildcard segment"},
      {"/a/{/}/c", "at offset 3: bad wildcard segment"},
      {"/a/{%61}/c", "at offset 3: bad wildcard name"},  // wildcard names aren't unescaped
      {"/{a$}", "at offset 1: bad wildcard name"},
      {"/{}", "at offset 1: empty wildcard"},
      {"POST a.com/x/{}/y", "at offset 13: empty wildcard"},
      {"/{...}", "at offset 1: empty wildcard"},
      {"/{$...}", "at offset 1: bad wildcard"},
      {"/{$}/", "at offset 1: {$} not at end"},
      {"/{$}/x", "at offset 1: {$} not at end"},
      {"/abc/{$}/x", "at offset 5: {$} not at end"},
      {"/{a...}/", "at offset 1: {...} wildcard not at end"},
      {"/{a...}/x", "at offset 1: {...} wildcard not at end"},
      {"{a}/b", "at offset 0: host contains '{' (missing initial '/'?)"},
      {"/a/{x}/b/{x...}", "at offset 9: duplicate wildcard name"},
      {"GET //", "at offset 4: non-CONNECT pattern with unclean path"},
      {"GET", "at offset 0: host/path missing /"},
      {"example.com", "at offset 0: host/path missing /"},
      {"/{1x}", "at offset 1: bad wildcard name \"1x\""},
      {"GET /a/../b", "at offset 4: non-CONNECT pattern with unclean path can never match"},
  };
  for (const auto& [in, want] : table) {
    EXPECT_THAT(hd::mux_test_parse_error(in), HasSubstr(want)) << in;
  }
  // CONNECT and method-less patterns may have unclean paths.
  EXPECT_EQ(hd::mux_test_parse_error("CONNECT //x"), "");
  EXPECT_EQ(hd::mux_test_parse_error("/a/../b"), "");
}

TEST(MuxRelationships, CompareMethods) {
  const std::vector<std::tuple<std::string, std::string, std::string>> table = {
      {"/", "/", "equivalent"},
      {"GET /", "GET /", "equivalent"},
      {"HEAD /", "HEAD /", "equivalent"},
      {"POST /", "POST /", "equivalent"},
      {"GET /", "POST /", "disjoint"},
      {"GET /", "/", "moreSpecific"},
      {"HEAD /", "/", "moreSpecific"},
      {"GET /", "HEAD /", "moreGeneral"},
  };
  auto inverse = [](const std::string& r) -> std::string {
    if (r == "moreSpecific") return "moreGeneral";
    if (r == "moreGeneral") return "moreSpecific";
    return r;
  };
  for (const auto& [p1, p2, want] : table) {
    EXPECT_EQ(hd::mux_test_compare_methods(p1, p2), want) << p1 << " vs " << p2;
    EXPECT_EQ(hd::mux_test_compare_methods(p2, p1), inverse(want)) << p2 << " vs " << p1;
  }
}

TEST(MuxRelationships, ComparePathsGoTable) {
  const std::vector<std::tuple<std::string, std::string, std::string>> table = {
      // A literal is more specific than anything it overlaps, except itself.
      {"/a", "/a", "equivalent"},
      {"/a", "/b", "disjoint"},
      {"/a", "/", "moreSpecific"},
      {"/a", "/{$}", "disjoint"},
      {"/a", "/{x}", "moreSpecific"},
      {"/a", "/{x...}", "moreSpecific"},
      // Adding a segment doesn't change that.
      {"/b/a", "/b/a", "equivalent"},
      {"/b/a", "/b/b", "disjoint"},
      {"/b/a", "/b/", "moreSpecific"},
      {"/b/a", "/b/{$}", "disjoint"},
      {"/b/a", "/b/{x}", "moreSpecific"},
      {"/b/a", "/b/{x...}", "moreSpecific"},
      {"/{z}/a", "/{z}/a", "equivalent"},
      {"/{z}/a", "/{z}/b", "disjoint"},
      {"/{z}/a", "/{z}/", "moreSpecific"},
      {"/{z}/a", "/{z}/{$}", "disjoint"},
      {"/{z}/a", "/{z}/{x}", "moreSpecific"},
      {"/{z}/a", "/{z}/{x...}", "moreSpecific"},
      // Single wildcard on left.
      {"/{z}", "/a", "moreGeneral"},
      {"/{z}", "/a/b", "disjoint"},
      {"/{z}", "/{$}", "disjoint"},
      {"/{z}", "/{x}", "equivalent"},
      {"/{z}", "/", "moreSpecific"},
      {"/{z}", "/{x...}", "moreSpecific"},
      {"/b/{z}", "/b/a", "moreGeneral"},
      {"/b/{z}", "/b/a/b", "disjoint"},
      {"/b/{z}", "/b/{$}", "disjoint"},
      {"/b/{z}", "/b/{x}", "equivalent"},
      {"/b/{z}", "/b/", "moreSpecific"},
      {"/b/{z}", "/b/{x...}", "moreSpecific"},
      // Trailing slash on left.
      {"/", "/a", "moreGeneral"},
      {"/", "/a/b", "moreGeneral"},
      {"/", "/{$}", "moreGeneral"},
      {"/", "/{x}", "moreGeneral"},
      {"/", "/", "equivalent"},
      {"/", "/{x...}", "equivalent"},
      {"/b/", "/b/a", "moreGeneral"},
      {"/b/", "/b/a/b", "moreGeneral"},
      {"/b/", "/b/{$}", "moreGeneral"},
      {"/b/", "/b/{x}", "moreGeneral"},
      {"/b/", "/b/", "equivalent"},
      {"/b/", "/b/{x...}", "equivalent"},
      {"/{z}/", "/{z}/a", "moreGeneral"},
      {"/{z}/", "/{z}/a/b", "moreGeneral"},
      {"/{z}/", "/{z}/{$}", "moreGeneral"},
      {"/{z}/", "/{z}/{x}", "moreGeneral"},
      {"/{z}/", "/{z}/", "equivalent"},
      {"/{z}/", "/a/", "moreGeneral"},
      {"/{z}/", "/{z}/{x...}", "equivalent"},
      {"/{z}/", "/a/{x...}", "moreGeneral"},
      {"/a/{z}/", "/{z}/a/", "overlaps"},
      {"/a/{z}/b/", "/{x}/c/{y...}", "overlaps"},
      // Multi wildcard on left.
      {"/{m...}", "/a", "moreGeneral"},
      {"/{m...}", "/a/b", "moreGeneral"},
      {"/{m...}", "/{$}", "moreGeneral"},
      {"/{m...}", "/{x}", "moreGeneral"},
      {"/{m...}", "/", "equivalent"},
      {"/{m...}", "/{x...}", "equivalent"},
      {"/b/{m...}", "/b/a", "moreGeneral"},
      {"/b/{m...}", "/b/a/b", "moreGeneral"},
      {"/b/{m...}", "/b/{$}", "moreGeneral"},
      {"/b/{m...}", "/b/{x}", "moreGeneral"},
      {"/b/{m...}", "/b/", "equivalent"},
      {"/b/{m...}", "/b/{x...}", "equivalent"},
      {"/b/{m...}", "/a/{x...}", "disjoint"},
      {"/{z}/{m...}", "/{z}/a", "moreGeneral"},
      {"/{z}/{m...}", "/{z}/a/b", "moreGeneral"},
      {"/{z}/{m...}", "/{z}/{$}", "moreGeneral"},
      {"/{z}/{m...}", "/{z}/{x}", "moreGeneral"},
      {"/{z}/{m...}", "/{w}/", "equivalent"},
      {"/{z}/{m...}", "/a/", "moreGeneral"},
      {"/{z}/{m...}", "/{z}/{x...}", "equivalent"},
      {"/{z}/{m...}", "/a/{x...}", "moreGeneral"},
      {"/a/{m...}", "/a/b/{y...}", "moreGeneral"},
      {"/a/{m...}", "/a/{x}/{y...}", "moreGeneral"},
      {"/a/{z}/{m...}", "/a/b/{y...}", "moreGeneral"},
      {"/a/{z}/{m...}", "/{z}/a/", "overlaps"},
      {"/a/{z}/{m...}", "/{z}/b/{y...}", "overlaps"},
      {"/a/{z}/b/{m...}", "/{x}/c/{y...}", "overlaps"},
      {"/a/{z}/a/{m...}", "/{x}/b", "disjoint"},
      // Dollar on left.
      {"/{$}", "/a", "disjoint"},
      {"/{$}", "/a/b", "disjoint"},
      {"/{$}", "/{$}", "equivalent"},
      {"/{$}", "/{x}", "disjoint"},
      {"/{$}", "/", "moreSpecific"},
      {"/{$}", "/{x...}", "moreSpecific"},
      {"/b/{$}", "/b", "disjoint"},
      {"/b/{$}", "/b/a", "disjoint"},
      {"/b/{$}", "/b/a/b", "disjoint"},
      {"/b/{$}", "/b/{$}", "equivalent"},
      {"/b/{$}", "/b/{x}", "disjoint"},
      {"/b/{$}", "/b/", "moreSpecific"},
      {"/b/{$}", "/b/{x...}", "moreSpecific"},
      {"/b/{$}", "/b/c/{x...}", "disjoint"},
      {"/b/{x}/a/{$}", "/{x}/c/{y...}", "overlaps"},
      {"/{x}/b/{$}", "/a/{x}/{y}", "disjoint"},
      {"/{x}/b/{$}", "/a/{x}/c", "disjoint"},
      {"/{z}/{$}", "/{z}/a", "disjoint"},
      {"/{z}/{$}", "/{z}/a/b", "disjoint"},
      {"/{z}/{$}", "/{z}/{$}", "equivalent"},
      {"/{z}/{$}", "/{z}/{x}", "disjoint"},
      {"/{z}/{$}", "/{z}/", "moreSpecific"},
      {"/{z}/{$}", "/a/", "overlaps"},
      {"/{z}/{$}", "/a/{x...}", "overlaps"},
      {"/{z}/{$}", "/{z}/{x...}", "moreSpecific"},
      {"/a/{z}/{$}", "/{z}/a/", "overlaps"},
  };
  auto inverse = [](const std::string& r) -> std::string {
    if (r == "moreSpecific") return "moreGeneral";
    if (r == "moreGeneral") return "moreSpecific";
    return r;
  };
  for (const auto& [p1, p2, want] : table) {
    EXPECT_EQ(hd::mux_test_compare_paths(p1, p1), "equivalent") << p1;
    EXPECT_EQ(hd::mux_test_compare_paths(p2, p2), "equivalent") << p2;
    EXPECT_EQ(hd::mux_test_compare_paths(p1, p2), want) << p1 << " vs " << p2;
    EXPECT_EQ(hd::mux_test_compare_paths(p2, p1), inverse(want)) << p2 << " vs " << p1;
  }
}

TEST(MuxRelationships, ConflictsWithGoTable) {
  const std::vector<std::tuple<std::string, std::string, bool>> table = {
      {"/a", "/a", true},
      {"/a", "/ab", false},
      {"/a/b/cd", "/a/b/cd", true},
      {"/a/b/cd", "/a/b/c", false},
      {"/a/b/c", "/a/c/c", false},
      {"/{x}", "/{y}", true},
      {"/{x}", "/a", false},  // more specific
      {"/{x}/{y}", "/{x}/a", false},
      {"/{x}/{y}", "/{x}/a/b", false},
      {"/{x}", "/a/{y}", false},
      {"/{x}/{y}", "/{x}/a/", false},
      {"/{x}", "/a/{y...}", false},           // more specific
      {"/{x}/a/{y}", "/{x}/a/{y...}", false},  // more specific
      {"/{x}/{y}", "/{x}/a/{$}", false},       // more specific
      {"/{x}/{y}/{$}", "/{x}/a/{$}", false},
      {"/a/{x}", "/{x}/b", true},
      {"/", "GET /", false},
      {"/", "GET /foo", false},
      {"GET /", "GET /foo", false},
      {"GET /", "/foo", true},
      {"GET /foo", "HEAD /", true},
      // Hosts: a host pattern wins over a hostless one; different hosts never conflict.
      {"a.com/x", "/x", false},
      {"a.com/x", "b.com/x", false},
      {"a.com/x", "a.com/x", true},
      {"GET a.com/{x}", "a.com/b", true},
  };
  for (const auto& [p1, p2, want] : table) {
    EXPECT_EQ(hd::mux_test_conflicts(p1, p2), want) << p1 << " vs " << p2;
    EXPECT_EQ(hd::mux_test_conflicts(p2, p1), want) << p2 << " vs " << p1;  // commutative
  }
}

TEST(MuxRelationships, DescribeConflict) {
  const std::vector<std::tuple<std::string, std::string, std::string>> table = {
      {"/a/{x}", "/a/{y}", "the same requests"},
      {"/", "/{m...}", "the same requests"},
      {"/a/{x}", "/{y}/b", "both match some paths"},
      {"/a", "GET /{x}", "matches more methods than GET /{x}, but has a more specific path pattern"},
      {"GET /a", "HEAD /", "matches more methods than HEAD /, but has a more specific path pattern"},
      {"POST /", "/a", "matches fewer methods than /a, but has a more general path pattern"},
  };
  for (const auto& [p1, p2, want] : table) {
    EXPECT_THAT(hd::mux_test_describe_conflict(p1, p2), HasSubstr(want)) << p1 << " vs " << p2;
  }
  EXPECT_EQ(hd::mux_test_describe_conflict("/a/{x}", "/{y}/b"),
            "/a/{x} and /{y}/b both match some paths, like \"/a/b\".\n"
            "But neither is more specific than the other.\n"
            "/a/{x} matches \"/a/x\", but /{y}/b doesn't.\n"
            "/{y}/b matches \"/y/b\", but /a/{x} doesn't.");
}

TEST(MuxRelationships, CommonPathGoTable) {
  const std::vector<std::tuple<std::string, std::string, std::string>> table = {
      {"/a/{x}", "/{x}/a", "/a/a"},
      {"/a/{z}/", "/{z}/a/", "/a/a/"},
      {"/a/{z}/{m...}", "/{z}/a/", "/a/a/"},
      {"/{z}/{$}", "/a/", "/a/"},
      {"/{z}/{$}", "/a/{x...}", "/a/"},
      {"/a/{z}/{$}", "/{z}/a/", "/a/a/"},
      {"/a/{x}/b/{y...}", "/{x}/c/{y...}", "/a/c/b/"},
      {"/a/{x}/b/", "/{x}/c/{y...}", "/a/c/b/"},
      {"/a/{x}/b/{$}", "/{x}/c/{y...}", "/a/c/b/"},
      {"/a/{z}/{x...}", "/{z}/b/{y...}", "/a/b/"},
  };
  for (const auto& [p1, p2, want] : table) {
    ASSERT_EQ(hd::mux_test_compare_paths(p1, p2), "overlaps") << p1 << " vs " << p2;
    EXPECT_EQ(hd::mux_test_common_path(p1, p2), want) << p1 << " vs " << p2;
  }
}

TEST(MuxRelationships, DifferencePathGoTable) {
  const std::vector<std::tuple<std::string, std::string, std::string>> table = {
      {"/a/{x}", "/{x}/a", "/a/x"},
      {"/{x}/a", "/a/{x}", "/x/a"},
      {"/a/{z}/", "/{z}/a/", "/a/z/"},
      {"/{z}/a/", "/a/{z}/", "/z/a/"},
      {"/{a}/a/", "/a/{z}/", "/ax/a/"},
      {"/a/{z}/{x...}", "/{z}/b/{y...}", "/a/z/"},
      {"/{z}/b/{y...}", "/a/{z}/{x...}", "/z/b/"},
      {"/a/b/", "/a/b/c", "/a/b/"},
      {"/a/b/{x...}", "/a/b/c", "/a/b/"},
      {"/a/b/{x...}", "/a/b/c/d", "/a/b/"},
      {"/a/b/{x...}", "/a/b/c/d/", "/a/b/"},
      {"/a/{z}/{m...}", "/{z}/a/", "/a/z/"},
      {"/{z}/a/", "/a/{z}/{m...}", "/z/a/"},
      {"/{z}/{$}", "/a/", "/z/"},
      {"/a/", "/{z}/{$}", "/a/x"},
      {"/{z}/{$}", "/a/{x...}", "/z/"},
      {"/a/{foo...}", "/{z}/{$}", "/a/foo"},
      {"/a/{z}/{$}", "/{z}/a/", "/a/z/"},
      {"/{z}/a/", "/a/{z}/{$}", "/z/a/x"},
      {"/a/{x}/b/{y...}", "/{x}/c/{y...}", "/a/x/b/"},
      {"/{x}/c/{y...}", "/a/{x}/b/{y...}", "/x/c/"},
      {"/a/{c}/b/", "/{x}/c/{y...}", "/a/cx/b/"},
      {"/{x}/c/{y...}", "/a/{c}/b/", "/x/c/"},
      {"/a/{x}/b/{$}", "/{x}/c/{y...}", "/a/x/b/"},
      {"/{x}/c/{y...}", "/a/{x}/b/{$}", "/x/c/"},
  };
  for (const auto& [p1, p2, want] : table) {
    std::string rel = hd::mux_test_compare_paths(p1, p2);
    ASSERT_TRUE(rel == "overlaps" || rel == "moreGeneral") << p1 << " vs " << p2 << ": " << rel;
    EXPECT_EQ(hd::mux_test_difference_path(p1, p2), want) << p1 << " vs " << p2;
  }
}

TEST(MuxMatching, ExactMatchGoTable) {
  const std::vector<std::tuple<std::string, std::string, bool>> table = {
      {"", "/a", false},
      {"/", "/a", false},
      {"/a", "/a", true},
      {"/a/{x...}", "/a/b", false},
      {"/a/{x}", "/a/b", true},
      {"/a/b/", "/a/b/", true},
      {"/a/b/{$}", "/a/b/", true},
      {"/a/", "/a/b/", false},
  };
  for (const auto& [pattern, path, want] : table) {
    EXPECT_EQ(hd::mux_test_exact_match(pattern, path), want) << pattern << " " << path;
  }
}

TEST(MuxMatching, CleanPathGoTable) {
  const std::vector<std::pair<std::string, std::string>> table = {
      {"//", "/"},
      {"/x", "/x"},
      {"//x", "/x"},
      {"x//", "/x/"},
      {"a//b/////c", "/a/b/c"},
      {"/foo/../bar/./..//baz", "/baz"},
      {"", "/"},
      {"/a/b/", "/a/b/"},
      {"/..", "/"},
      {"/a/..", "/"},
      {"/a/../", "/"},
      {"/a/b/..", "/a"},
      {"/a/b/../", "/a/"},
      {"/a/b/../c", "/a/c"},
      {"/abc/def/../../..", "/"},
  };
  for (const auto& [in, want] : table) EXPECT_EQ(hd::clean_path(in), want) << in;
}

// ---- registration -------------------------------------------------------------------------

// server_test.go's TestRegisterErr and pattern_test.go's TestRegisterConflict.
TEST(MuxRegister, PanicsLikeGo) {
  http::ServeMux mux;
  mux.handle("/a", ok_handler());
  EXPECT_EQ(panic_message([&] { mux.handle("", ok_handler()); }), "http: invalid pattern");
  EXPECT_EQ(panic_message([&] { mux.handle("/", http::HandlerRef()); }), "http: nil handler");
  EXPECT_EQ(panic_message([&] { mux.handle_func("/", http::HandlerFunc()); }),
            "http: nil handler");
  EXPECT_EQ(panic_message([&] { mux.handle("/{x", ok_handler()); }),
            "parsing \"/{x\": at offset 1: bad wildcard segment (must end with '}')");
  EXPECT_EQ(panic_message([&] { mux.handle("/a", ok_handler()); }),
            "pattern \"/a\" conflicts with pattern \"/a\":\n/a matches the same requests as /a");
  EXPECT_EQ(panic_message([&] { mux.handle("GET /{x}/{x...}", ok_handler()); }),
            "parsing \"GET /{x}/{x...}\": at offset 9: duplicate wildcard name \"x\"");
  EXPECT_EQ(panic_message([&] { mux.handle("/a/{rest...}/b", ok_handler()); }),
            "parsing \"/a/{rest...}/b\": at offset 3: {...} wildcard not at end");
  EXPECT_EQ(panic_message([&] { mux.handle("a.com", ok_handler()); }),
            "parsing \"a.com\": at offset 0: host/path missing /");
  EXPECT_EQ(panic_message([&] { mux.handle("G@T /", ok_handler()); }),
            "parsing \"G@T /\": at offset 0: invalid method \"G@T\"");

  http::ServeMux m2;
  m2.handle("/a/{x}/", ok_handler());
  EXPECT_THAT(panic_message([&] { m2.handle("/a/{y}/{z...}", ok_handler()); }),
              HasSubstr("matches the same requests as"));

  http::ServeMux m3;
  m3.handle("/x/b", ok_handler());
  EXPECT_EQ(panic_message([&] { m3.handle("GET /x/{a}", ok_handler()); }),
            "pattern \"GET /x/{a}\" conflicts with pattern \"/x/b\":\n"
            "GET /x/{a} matches fewer methods than /x/b, but has a more general path pattern");
  // "POST /x/{a}" conflicts too (fewer methods, more general path).
  EXPECT_THAT(panic_message([&] { m3.handle("POST /x/{a}", ok_handler()); }),
              HasSubstr("conflicts with pattern \"/x/b\""));
  // The refused patterns were not registered; non-conflicting ones still can be.
  m3.handle("example.com/x/{a}", ok_handler());
  m3.handle("POST /y/{a}", ok_handler());
  auto r = raw_request("GET", "h", "/x/zz");
  EXPECT_EQ(m3.handler(r).second, "");  // 404
  auto r2 = raw_request("GET", "example.com", "/x/zz");
  EXPECT_EQ(m3.handler(r2).second, "example.com/x/{a}");
  auto r3 = raw_request("GET", "h", "/y/zz");
  auto [h3, p3] = m3.handler(r3);
  EXPECT_EQ(p3, "");
  Recorder w3;
  h3.serve_http(w3, r3);
  EXPECT_EQ(w3.code(), 405);
  EXPECT_EQ(w3.headers().get("Allow"), "POST");

  http::ServeMux m4;
  m4.handle("/a/{x}", ok_handler());
  EXPECT_EQ(panic_message([&] { m4.handle("/{y}/b", ok_handler()); }),
            "pattern \"/{y}/b\" conflicts with pattern \"/a/{x}\":\n"
            "/{y}/b and /a/{x} both match some paths, like \"/a/b\".\n"
            "But neither is more specific than the other.\n"
            "/{y}/b matches \"/y/b\", but /a/{x} doesn't.\n"
            "/a/{x} matches \"/a/x\", but /{y}/b doesn't.");

  // HandleFunc(nil) (Issue 24297).
  http::ServeMux m5;
  EXPECT_EQ(panic_message([&] { m5.handle_func("/", nullptr); }), "http: nil handler");
}

// ---- routing (routing_tree_test.go, through a ServeMux) -----------------------------------

struct RouteCase {
  std::string method, host, path;
  int code;             // what the mux replies
  std::string pattern;  // r.pattern after serve_http
  std::map<std::string, std::string> values;
};

void check_routes(http::ServeMux& mux, const std::vector<RouteCase>& cases) {
  for (const auto& tt : cases) {
    SCOPED_TRACE(tt.method + " " + tt.host + " " + tt.path);
    auto r = raw_request(tt.method, tt.host, tt.path);
    Recorder w;
    mux.serve_http(w, r);
    EXPECT_EQ(w.code(), tt.code);
    EXPECT_EQ(r.pattern, tt.pattern);
    if (tt.code == 200) {
      EXPECT_EQ(w.body(), "ok");
    }
    for (const auto& [k, v] : tt.values) EXPECT_EQ(r.path_value(k), v) << k;
    EXPECT_EQ(mux.handler(r).second, tt.pattern);
  }
}

TEST(MuxRouting, TreeOne) {
  http::ServeMux mux;
  for (auto p : {"/a", "/a/b", "/a/{x}", "/g/h/i", "/g/{x}/j", "/a/b/{x...}", "/a/b/{y}",
                 "/a/b/{$}"}) {
    mux.handle(p, ok_handler());
  }
  check_routes(mux, {
                        {"GET", "", "/a", 200, "/a", {}},
                        {"Get", "", "/b", 404, "", {}},
                        {"Get", "", "/a/b", 200, "/a/b", {}},
                        {"Get", "", "/a/c", 200, "/a/{x}", {{"x", "c"}}},
                        {"Get", "", "/a/b/", 200, "/a/b/{$}", {}},
                        {"Get", "", "/a/b/c", 200, "/a/b/{y}", {{"y", "c"}}},
                        {"Get", "", "/a/b/c/d", 200, "/a/b/{x...}", {{"x", "c/d"}}},
                        {"Get", "", "/g/h/i", 200, "/g/h/i", {}},
                        {"Get", "", "/g/h/j", 200, "/g/{x}/j", {{"x", "h"}}},
                    });
}

TEST(MuxRouting, TreeTwoMethodsHostsPrecedence) {
  http::ServeMux mux;
  for (auto p : {"/item/", "POST /item/{user}", "GET /item/{user}", "/item/{user}",
                 "/item/{user}/{id}", "/item/{user}/new", "/item/{$}", "POST alt.com/item/{user}",
                 "GET /headwins", "HEAD /headwins", "/path/{p...}"}) {
    mux.handle(p, ok_handler());
  }
  check_routes(
      mux, {
               {"GET", "", "/item/jba", 200, "GET /item/{user}", {{"user", "jba"}}},
               {"POST", "", "/item/jba", 200, "POST /item/{user}", {{"user", "jba"}}},
               {"HEAD", "", "/item/jba", 200, "GET /item/{user}", {{"user", "jba"}}},
               // Method matches are case-sensitive.
               {"get", "", "/item/jba", 200, "/item/{user}", {{"user", "jba"}}},
               {"POST", "", "/item/jba/17", 200, "/item/{user}/{id}", {{"user", "jba"}, {"id", "17"}}},
               {"GET", "", "/item/jba/new", 200, "/item/{user}/new", {{"user", "jba"}}},
               {"GET", "", "/item/", 200, "/item/{$}", {}},
               {"GET", "", "/item/jba/17/line2", 200, "/item/", {}},
               {"POST", "alt.com", "/item/jba", 200, "POST alt.com/item/{user}", {{"user", "jba"}}},
               {"POST", "alt.com:8080", "/item/jba", 200, "POST alt.com/item/{user}", {}},
               {"GET", "alt.com", "/item/jba", 200, "GET /item/{user}", {{"user", "jba"}}},
               // The tree has no match for /item; the mux redirects to /item/.
               {"GET", "", "/item", 301, "/item/", {}},
               {"GET", "", "/headwins", 200, "GET /headwins", {}},
               {"HEAD", "", "/headwins", 200, "HEAD /headwins", {}},  // HEAD beats GET
               {"GET", "", "/path/to/file", 200, "/path/{p...}", {{"p", "to/file"}}},
               {"GET", "", "/path/*", 200, "/path/{p...}", {{"p", "*"}}},
           });
}

TEST(MuxRouting, DollarSingleAndMultiWildcards) {
  const std::string pat1 = "/a/b/{$}", pat2 = "/a/b/{w}", pat3 = "/a/b/{w...}";
  {
    http::ServeMux mux;  // {$} matches only with the trailing slash
    mux.handle(pat1, ok_handler());
    check_routes(mux, {{"GET", "", "/a/b", 301, "/a/b/", {}},
                       {"GET", "", "/a/b/", 200, pat1, {}},
                       {"GET", "", "/a/b/c", 404, "", {}},
                       {"GET", "", "/a/b/c/d", 404, "", {}}});
  }
  {
    http::ServeMux mux;  // a single wildcard does not match a trailing slash
    mux.handle(pat2, ok_handler());
    check_routes(mux, {{"GET", "", "/a/b", 404, "", {}},
                       {"GET", "", "/a/b/", 404, "", {}},
                       {"GET", "", "/a/b/c", 200, pat2, {{"w", "c"}}},
                       {"GET", "", "/a/b/c/d", 404, "", {}}});
  }
  {
    http::ServeMux mux;  // a multi wildcard matches both
    mux.handle(pat3, ok_handler());
    check_routes(mux, {{"GET", "", "/a/b", 301, "/a/b/", {}},
                       {"GET", "", "/a/b/", 200, pat3, {{"w", ""}}},
                       {"GET", "", "/a/b/c", 200, pat3, {{"w", "c"}}},
                       {"GET", "", "/a/b/c/d", 200, pat3, {{"w", "c/d"}}}});
  }
  {
    http::ServeMux mux;  // all three together
    for (const auto& p : {pat1, pat2, pat3}) mux.handle(p, ok_handler());
    check_routes(mux, {{"GET", "", "/a/b", 301, "/a/b/", {}},
                       {"GET", "", "/a/b/", 200, pat1, {}},
                       {"GET", "", "/a/b/c", 200, pat2, {{"w", "c"}}},
                       {"GET", "", "/a/b/c/d", 200, pat3, {{"w", "c/d"}}}});
  }
}

TEST(MuxRouting, HostPatternsWinAndPortIsStripped) {
  http::ServeMux mux;
  mux.handle("/x", ok_handler());
  mux.handle("example.com/x", ok_handler());
  mux.handle("example.com/", ok_handler());
  check_routes(mux, {{"GET", "example.com", "/x", 200, "example.com/x", {}},
                     {"GET", "example.com:8080", "/x", 200, "example.com/x", {}},
                     {"GET", "[::1]:80", "/x", 200, "/x", {}},
                     {"GET", "other.com", "/x", 200, "/x", {}},
                     {"GET", "EXAMPLE.COM", "/x", 200, "/x", {}},  // hosts match exactly
                     {"GET", "example.com", "/y", 200, "example.com/", {}},
                     {"GET", "other.com", "/y", 404, "", {}}});
}

// request_test.go's TestStatus: 405 with Allow, HEAD via GET.
TEST(MuxRouting, MethodNotAllowedAndAllow) {
  http::ServeMux mux;
  mux.handle("GET /g", ok_handler());
  mux.handle("POST /p", ok_handler());
  mux.handle("PATCH /p", ok_handler());
  mux.handle("PUT /r", ok_handler());
  mux.handle("GET /r/", ok_handler());
  struct Case {
    std::string method, path;
    int status;
    std::string allow;
  };
  const std::vector<Case> table = {
      {"GET", "/g", 200, ""},
      {"HEAD", "/g", 200, ""},
      {"POST", "/g", 405, "GET, HEAD"},
      {"GET", "/x", 404, ""},
      {"GET", "/p", 405, "PATCH, POST"},
      {"GET", "/./p", 301, ""},  // through a client: redirected to /p, then 405
      {"GET", "/r/", 200, ""},
      {"GET", "/r", 301, ""},  // redirected to /r/
      {"HEAD", "/r/", 200, ""},
      {"HEAD", "/r", 301, ""},
      {"PUT", "/r/", 405, "GET, HEAD"},
      {"PUT", "/r", 200, ""},
  };
  for (const auto& tt : table) {
    auto r = raw_request(tt.method, "h", tt.path);
    Recorder w;
    mux.serve_http(w, r);
    EXPECT_EQ(w.code(), tt.status) << tt.method << " " << tt.path;
    EXPECT_EQ(w.headers().get("Allow"), tt.allow) << tt.method << " " << tt.path;
    if (tt.status == 405) {
      EXPECT_EQ(w.body(), "Method Not Allowed\n");
      EXPECT_EQ(w.headers().get("Content-Type"), "text/plain; charset=utf-8");
      EXPECT_EQ(r.pattern, "");
    }
  }
  // routing_tree_test.go's TestMatchingMethods.
  auto allow = [](std::initializer_list<const char*> patterns, std::string method,
                  std::string host, std::string path) {
    http::ServeMux m;
    for (auto p : patterns) m.handle(p, ok_handler());
    auto r = raw_request(std::move(method), std::move(host), std::move(path));
    Recorder w;
    m.serve_http(w, r);
    return std::to_string(w.code()) + " " + w.headers().get("Allow");
  };
  EXPECT_EQ(allow({"POST /"}, "GET", "", "/foo"), "405 POST");
  EXPECT_EQ(allow({"GET /"}, "POST", "", "/foo"), "405 GET, HEAD");
  auto host_tree = {"GET a.com/", "PUT b.com/", "POST /foo/{x}"};
  EXPECT_EQ(allow(host_tree, "DELETE", "", "/foo"), "404 ");
  EXPECT_EQ(allow(host_tree, "DELETE", "", "/foo/bar"), "405 POST");
  EXPECT_EQ(allow(host_tree, "DELETE", "a.com", "/foo/bar"), "405 GET, HEAD, POST");
  EXPECT_EQ(allow(host_tree, "DELETE", "b.com", "/bar"), "405 PUT");
  // The trailing-slash form counts, unless the path has one (issue 67657).
  EXPECT_EQ(allow({"POST /d/"}, "GET", "", "/d"), "405 POST");
  EXPECT_EQ(allow({"GET /{x}/"}, "GET", "", "/"), "404 ");  // TestMuxNoSlash405WithTrailingSlash
}

// ---- ServeMux.Handler and redirects (server_test.go, serve_test.go) -----------------------

TEST(MuxHandler, FindHandlerGoTable) {  // TestFindHandler
  http::ServeMux mux;
  const std::vector<std::string> patterns = {"/", "/foo/", "/foo", "/bar/", "//foo"};
  for (std::size_t i = 0; i < patterns.size(); ++i) {
    std::string tag = "h" + std::to_string(i + 1);
    mux.handle(patterns[i], http::HandlerRef([tag](http::ResponseWriter& w, http::Request&) {
                 (void)w.write(tag);
               }));
  }
  struct Case {
    std::string method, path, want;  // "h<i>" or "redirect <url>"
  };
  const std::vector<Case> table = {
      {"GET", "/", "h1"},
      {"GET", "//", "redirect /"},
      {"GET", "/foo/../bar/./..//baz", "redirect /baz"},
      {"GET", "/foo", "h3"},
      {"GET", "/foo/x", "h2"},
      {"GET", "/bar/x", "h4"},
      {"GET", "/bar", "redirect /bar/"},
      {"CONNECT", "/", "h1"},
      {"CONNECT", "//", "h1"},
      {"CONNECT", "//foo", "h5"},
      {"CONNECT", "/foo/../bar/./..//baz", "h2"},
      {"CONNECT", "/foo", "h3"},
      {"CONNECT", "/foo/x", "h2"},
      {"CONNECT", "/bar/x", "h4"},
      {"CONNECT", "/bar", "redirect /bar/"},
  };
  for (const auto& tt : table) {
    auto r = raw_request(tt.method, "example.com", tt.path);
    auto [h, pattern] = mux.handler(r);
    ASSERT_TRUE(h);
    Recorder w;
    h.serve_http(w, r);
    std::string got = w.code() == 301 ? "redirect " + w.headers().get("Location") : w.body();
    EXPECT_EQ(got, tt.want) << tt.method << " " << tt.path;
    EXPECT_TRUE(r.pattern.empty());  // Handler does not modify its argument
  }
}

TEST(MuxHandler, EmptyServeMux) {  // TestEmptyServeMux
  http::ServeMux mux;
  auto r = raw_request("GET", "example.com", "/");
  auto [h, pattern] = mux.handler(r);
  EXPECT_EQ(pattern, "");
  Recorder w;
  h.serve_http(w, r);
  EXPECT_EQ(w.code(), 404);
  EXPECT_EQ(w.body(), "404 page not found\n");
}

TEST(MuxHandler, ServeMuxHandlerGoTable) {  // TestServeMuxHandler
  http::ServeMux mux;
  mux.handle("/dir/", serve(200));
  mux.handle("/search", serve(201));
  mux.handle("codesearch.google.com/search", serve(202));
  mux.handle("codesearch.google.com/", serve(203));
  mux.handle("example.com/", ok_handler());
  struct Case {
    std::string method, host, path;
    int code;
    std::string pattern;
  };
  const std::vector<Case> table = {
      {"GET", "google.com", "/", 404, ""},
      {"GET", "google.com", "/dir", 301, "/dir/"},
      {"GET", "google.com", "/dir/", 200, "/dir/"},
      {"GET", "google.com", "/dir/file", 200, "/dir/"},
      {"GET", "google.com", "/search", 201, "/search"},
      {"GET", "google.com", "/search/", 404, ""},
      {"GET", "google.com", "/search/foo", 404, ""},
      {"GET", "codesearch.google.com", "/search", 202, "codesearch.google.com/search"},
      {"GET", "codesearch.google.com", "/search/", 203, "codesearch.google.com/"},
      {"GET", "codesearch.google.com", "/search/foo", 203, "codesearch.google.com/"},
      {"GET", "codesearch.google.com", "/", 203, "codesearch.google.com/"},
      {"GET", "codesearch.google.com:443", "/", 203, "codesearch.google.com/"},
      {"GET", "images.google.com", "/search", 201, "/search"},
      {"GET", "images.google.com", "/search/", 404, ""},
      {"GET", "images.google.com", "/search/foo", 404, ""},
      {"GET", "google.com", "/../search", 301, "/search"},
      {"GET", "google.com", "/dir/..", 301, ""},
      {"GET", "google.com", "/dir/./file", 301, "/dir/"},
      // The /foo -> /foo/ redirect applies to CONNECT requests, but the path
      // canonicalization does not.
      {"CONNECT", "google.com", "/dir", 301, "/dir/"},
      {"CONNECT", "google.com", "/../search", 404, ""},
      {"CONNECT", "google.com", "../search", 404, ""},
      {"CONNECT", "google.com", "/dir/..", 200, "/dir/"},
      {"CONNECT", "google.com", "/dir/../search", 200, "/dir/"},
      {"CONNECT", "google.com", "/dir/./file", 200, "/dir/"},
  };
  for (const auto& tt : table) {
    auto r = raw_request(tt.method, tt.host, tt.path);
    auto [h, pattern] = mux.handler(r);
    Recorder w;
    h.serve_http(w, r);
    EXPECT_EQ(w.code(), tt.code) << tt.method << " " << tt.host << " " << tt.path;
    EXPECT_EQ(pattern, tt.pattern) << tt.method << " " << tt.host << " " << tt.path;
  }
}

TEST(MuxHandler, SlashRedirectForHostPatterns) {  // TestServeWithSlashRedirectForHostPatterns
  http::ServeMux mux;
  for (auto p : {"example.com/pkg/foo/", "example.com/pkg/bar", "example.com/pkg/bar/",
                 "example.com:3000/pkg/connect/", "example.com:9000/", "/pkg/baz/"}) {
    mux.handle(p, string_handler(p));
  }
  struct Case {
    std::string method, url;
    int code;
    std::string loc, want;
  };
  const std::vector<Case> table = {
      {"GET", "http://example.com/", 404, "", ""},
      {"GET", "http://example.com/pkg/foo", 301, "/pkg/foo/", ""},
      {"GET", "http://example.com/pkg/bar", 200, "", "example.com/pkg/bar"},
      {"GET", "http://example.com/pkg/bar/", 200, "", "example.com/pkg/bar/"},
      {"GET", "http://example.com/pkg/baz", 301, "/pkg/baz/", ""},
      {"GET", "http://example.com:3000/pkg/foo", 301, "/pkg/foo/", ""},
      {"CONNECT", "http://example.com/", 404, "", ""},
      {"CONNECT", "http://example.com:3000/", 404, "", ""},
      {"CONNECT", "http://example.com:9000/", 200, "", "example.com:9000/"},
      {"CONNECT", "http://example.com/pkg/foo", 301, "/pkg/foo/", ""},
      {"CONNECT", "http://example.com:3000/pkg/foo", 404, "", ""},
      {"CONNECT", "http://example.com:3000/pkg/baz", 301, "/pkg/baz/", ""},
      {"CONNECT", "http://example.com:3000/pkg/connect", 301, "/pkg/connect/", ""},
  };
  for (const auto& tt : table) {
    auto [req, err] = http::new_request(tt.method, tt.url);
    ASSERT_FALSE(err) << err;
    Recorder w;
    mux.serve_http(w, req);
    EXPECT_EQ(w.code(), tt.code) << tt.method << " " << tt.url;
    if (tt.code == 301) {
      EXPECT_EQ(w.headers().get("Location"), tt.loc) << tt.method << " " << tt.url;
    } else {
      EXPECT_EQ(w.headers().get("Result"), tt.want) << tt.method << " " << tt.url;
    }
  }
}

TEST(MuxHandler, RedirectsKeepQueryAndCleanPaths) {
  http::ServeMux mux;
  auto echo_query = [](std::string suffix) {
    return http::HandlerRef([suffix](http::ResponseWriter& w, http::Request& r) {
      (void)w.write(r.url.raw_query + suffix);
    });
  };
  mux.handle("/testOne", echo_query(""));
  mux.handle("/testTwo/", echo_query(""));
  mux.handle("/testThree", echo_query(""));
  mux.handle("/testThree/", echo_query(":bar"));
  struct Case {
    std::string method, target;
    int code;
    std::string loc_or_body;
  };
  // TestServeWithSlashRedirectKeepsQueryString, one hop at a time.
  const std::vector<Case> table = {
      {"GET", "/testOne?this=that", 200, "this=that"},
      {"GET", "/testTwo?foo=bar", 301, "/testTwo/?foo=bar"},
      {"HEAD", "/testTwo?foo=bar", 301, "/testTwo/?foo=bar"},
      {"GET", "/testTwo/?foo=bar", 200, "foo=bar"},
      {"GET", "/testTwo?a=1&b=2&a=3", 301, "/testTwo/?a=1&b=2&a=3"},
      {"GET", "/testTwo?", 301, "/testTwo/"},
      {"GET", "/testThree?foo", 200, "foo"},
      {"GET", "/testThree/?foo", 200, "foo:bar"},
      {"CONNECT", "/testThree?foo", 200, "foo"},
      {"CONNECT", "/testThree/?foo", 200, "foo:bar"},
      // Canonicalization or not.
      {"GET", "/testOne/foo/..?foo", 301, "/testOne?foo"},
      {"CONNECT", "/testOne/foo/..?foo", 404, "404 page not found\n"},
      // TestMuxRedirectLeadingSlashes.
      {"GET", "//foo.txt", 301, "/foo.txt"},
      {"GET", "///foo.txt", 301, "/foo.txt"},
      {"GET", "/../../foo.txt", 301, "/foo.txt"},
      // The cleaned path is sent escaped once (Go escapes it twice: "/a%2520b").
      {"GET", "//a%20b?x=%41", 301, "/a%20b?x=%41"},
      {"GET", "/x/./%2F/..", 301, "/x"},
  };
  for (const auto& tt : table) {
    auto r = target_request(tt.method, "test", tt.target);
    Recorder w;
    mux.serve_http(w, r);
    EXPECT_EQ(w.code(), tt.code) << tt.method << " " << tt.target;
    if (tt.code == 301) {
      EXPECT_EQ(w.headers().get("Location"), tt.loc_or_body) << tt.method << " " << tt.target;
      if (tt.method == "GET") {
        EXPECT_THAT(w.body(), HasSubstr("Moved Permanently"));
      }
    } else {
      EXPECT_EQ(w.body(), tt.loc_or_body) << tt.method << " " << tt.target;
    }
  }
}

TEST(MuxHandler, RedirectRelativeAndAsterisk) {
  http::ServeMux mux;
  // TestMuxRedirectRelative: "GET http://example.com HTTP/1.1" has an empty path.
  auto r = target_request("GET", "test", "/");
  r.url = http::parse_url("http://example.com").value;
  Recorder w;
  mux.serve_http(w, r);
  EXPECT_EQ(w.code(), 301);
  EXPECT_EQ(w.headers().get("Location"), "/");

  // "OPTIONS * HTTP/1.1" reaching a ServeMux: 400 and the connection closed.
  mux.handle("/", ok_handler());
  auto star = target_request("OPTIONS", "test", "*");
  Recorder w2;
  mux.serve_http(w2, star);
  EXPECT_EQ(w2.code(), 400);
  EXPECT_EQ(w2.headers().get("Connection"), "close");
  auto star10 = target_request("OPTIONS", "test", "*");
  star10.proto_minor = 0;
  Recorder w3;
  mux.serve_http(w3, star10);
  EXPECT_EQ(w3.code(), 400);
  EXPECT_FALSE(w3.headers().has("Connection"));
}

// No trailing-slash redirect on a path that already has one (issue 65624).
TEST(MuxHandler, NoSlashRedirectWithTrailingSlash) {
  http::ServeMux mux;
  mux.handle("/{x}/", ok_handler());
  auto r = http::new_request("GET", "/").value;
  Recorder w;
  mux.serve_http(w, r);
  EXPECT_EQ(w.code(), 404);
}

// server_test.go's TestEscapedPathsAndPatterns.
TEST(MuxHandler, EscapedPathsAndPatterns) {
  struct Case {
    std::string pattern;
    std::vector<std::string> paths;
  };
  const std::vector<Case> table = {
      {"/a", {"/a", "/%61"}},                                      // matches what unescapes to /a
      {"/%62", {"/b", "/%62"}},                                    // patterns are unescaped by segment
      {"/%7B/%7D", {"/{/}", "/%7b/}", "/{/%7d", "/%7B/%7D"}},      // the only way to match { }
      {"/%x", {"/%25x"}},                                          // invalid escapes left as they are
  };
  http::ServeMux mux;
  for (const auto& m : table) mux.handle(m.pattern, ok_handler());
  for (const auto& m : table) {
    for (const auto& p : m.paths) {
      auto r = target_request("GET", "", p);
      EXPECT_EQ(mux.handler(r).second, m.pattern) << p;
    }
  }
  // %2F inside a segment does not split it; wildcard values are unescaped per segment.
  http::ServeMux m2;
  m2.handle("/files/{name}", ok_handler());
  m2.handle("/files/{dir}/{name}", ok_handler());
  auto one = target_request("GET", "", "/files/a%2Fb");
  Recorder w;
  m2.serve_http(w, one);
  EXPECT_EQ(one.pattern, "/files/{name}");
  EXPECT_EQ(one.path_value("name"), "a/b");
  auto two = target_request("GET", "", "/files/a/b%20c");
  Recorder w2;
  m2.serve_http(w2, two);
  EXPECT_EQ(two.pattern, "/files/{dir}/{name}");
  EXPECT_EQ(two.path_value("dir"), "a");
  EXPECT_EQ(two.path_value("name"), "b c");
}

// request_test.go's TestPathValue.
TEST(MuxPathValue, GoTable) {
  struct Case {
    std::string pattern, url;
    std::map<std::string, std::string> want;
  };
  const std::vector<Case> table = {
      {"/{a}/is/{b}/{c...}",
       "/now/is/the/time/for/all",
       {{"a", "now"}, {"b", "the"}, {"c", "time/for/all"}, {"d", ""}}},
      {"/names/{name}/{other...}", "/names/%2fjohn/address", {{"name", "/john"}, {"other", "address"}}},
      {"/names/{name}/{other...}",
       "/names/john%2Fdoe/there/is%2F/more",
       {{"name", "john/doe"}, {"other", "there/is//more"}}},
  };
  for (const auto& tt : table) {
    http::ServeMux mux;
    std::map<std::string, std::string> got;
    mux.handle_func(tt.pattern, [&](http::ResponseWriter&, http::Request& r) {
      for (const auto& [name, _] : tt.want) got[name] = r.path_value(name);
    });
    auto r = target_request("GET", "h", tt.url);
    Recorder w;
    mux.serve_http(w, r);
    EXPECT_EQ(w.code(), 200) << tt.url;
    EXPECT_EQ(got, tt.want) << tt.url;
  }
}

TEST(MuxPathValue, SetPathValue) {  // TestSetPathValue
  http::ServeMux mux;
  std::map<std::string, std::string> got;
  mux.handle_func("/a/{b}/c/{d...}", [&](http::ResponseWriter&, http::Request& r) {
    const std::map<std::string, std::string> kvs = {{"b", "X"}, {"d", "Y"}, {"a", "Z"}};
    for (const auto& [k, v] : kvs) r.set_path_value(k, v);
    for (const auto& [k, v] : kvs) got[k] = r.path_value(k);
  });
  auto r = target_request("GET", "h", "/a/b/c/d/e");
  Recorder w;
  mux.serve_http(w, r);
  EXPECT_EQ(got, (std::map<std::string, std::string>{{"a", "Z"}, {"b", "X"}, {"d", "Y"}}));
}

TEST(MuxHandler, GetPatternAlsoServesHead) {
  http::ServeMux mux;
  mux.handle_func("GET /hello/{name}", [](http::ResponseWriter& w, http::Request& r) {
    w.header().set("Content-Type", "text/plain");
    (void)w.write("hello " + r.path_value("name"));
  });
  for (const char* method : {"GET", "HEAD"}) {
    auto r = raw_request(method, "h", "/hello/gopher");
    Recorder w;
    mux.serve_http(w, r);
    EXPECT_EQ(w.code(), 200) << method;
    EXPECT_EQ(w.body(), "hello gopher") << method;
    EXPECT_EQ(r.pattern, "GET /hello/{name}");
  }
  auto post = raw_request("POST", "h", "/hello/gopher");
  Recorder w;
  mux.serve_http(w, post);
  EXPECT_EQ(w.code(), 405);
  EXPECT_EQ(w.headers().get("Allow"), "GET, HEAD");
}

TEST(MuxHandler, NestedMuxWithStripPrefix) {
  http::ServeMux api;
  api.handle_func("GET /users/{id}", [](http::ResponseWriter& w, http::Request& r) {
    (void)w.write("user " + r.path_value("id") + " at " + r.url.path);
  });
  http::ServeMux root;
  root.handle("/api/", http::strip_prefix("/api", api));
  auto r = raw_request("GET", "h", "/api/users/42");
  Recorder w;
  root.serve_http(w, r);
  EXPECT_EQ(w.body(), "user 42 at /users/42");
  EXPECT_EQ(r.pattern, "/api/");
}

// Requests are matched in goroutines while patterns are still being registered (Go's
// TestShouldRedirectConcurrency, and more).
TEST(MuxConcurrency, ServeWhileRegistering) {
  gocxx::run(
      [] {
        http::ServeMux mux;
        mux.handle("/", ok_handler());
        constexpr int kPatterns = 200;
        constexpr int kReaders = 8;
        gocxx::sync::WaitGroup wg;
        std::atomic<int> failures{0};
        std::atomic<bool> done{false};
        wg.add(kReaders);
        for (int g = 0; g < kReaders; ++g) {
          gocxx::go([&, g] {
            for (int i = 0; !done.load() || i < 50; ++i) {
              int k = (i * 7 + g) % kPatterns;
              auto r = raw_request(i % 2 ? "GET" : "HEAD", "h", "/p" + std::to_string(k) + "/x");
              Recorder w;
              mux.serve_http(w, r);
              // Either the catch-all or, once registered, /p<k>/{v}.
              bool ok = w.code() == 200 &&
                        (r.pattern == "/" ||
                         (r.pattern == "GET /p" + std::to_string(k) + "/{v}" &&
                          r.path_value("v") == "x"));
              if (!ok) failures.fetch_add(1);
              if (i % 16 == 0) gocxx::yield();
            }
            wg.done();
          });
        }
        for (int k = 0; k < kPatterns; ++k) {
          mux.handle("GET /p" + std::to_string(k) + "/{v}", ok_handler());
          if (k % 8 == 0) gocxx::yield();
        }
        done.store(true);
        wg.wait();
        EXPECT_EQ(failures.load(), 0);
        auto r = raw_request("GET", "h", "/p199/x");
        EXPECT_EQ(mux.handler(r).second, "GET /p199/{v}");
      },
      gocxx::Options{.procs = 4});
}

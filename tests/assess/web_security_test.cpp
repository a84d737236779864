// `assess serve`'s security model (assess/web), each rule with its abuse case, over loopback HTTP
// with gocxx's client: escaping, form validation, CSRF and Origin checks, cookie scoping, one-time
// expiring links, rate limits, body caps, content types, 404s and the headers every page gets.
// The test bank's robustness dimension has one predict choice item: nothing here runs Go.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>

#include <gocxx/chan.hpp>
#include <gocxx/http.hpp>
#include <gocxx/net.hpp>
#include <gocxx/runtime.hpp>
#include <nlohmann/json.hpp>

#include "web/app.hpp"
#include "web/form.hpp"
#include "web/html.hpp"
#include "web_client.hpp"

namespace fs = std::filesystem;
namespace http = gocxx::http;
namespace web = assess::web;
using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

namespace {

using web_test::Browser;
using web_test::csrf_of;
using web_test::link_of;
using web_test::Reply;

// The application on a loopback port, with a movable clock.
struct Server {
  fs::path dir = fs::temp_directory_path() / ("assess_web_security_" + std::to_string(::getpid()));
  assess::Bank bank = assess::load_bank(ASSESS_TEST_ITEMS);
  assess::rules::RuleSet rules = assess::rules::RuleSet::parse(R"({"rules": []})");
  assess::Grader grader{{}};
  std::unique_ptr<assess::SqliteStore> store;
  std::atomic<long long> skew_ms{0};
  std::unique_ptr<web::App> app;
  http::Server srv;
  gocxx::Chan<gocxx::error> served{1};
  std::string token;  // the interviewer's
  std::string base;

  explicit Server(web::AppOptions options = {}) {
    fs::remove_all(dir);
    fs::create_directories(dir);
    store = assess::open_sqlite_store(dir / "assess.db");
    options.clock = [this] { return assess::now() + std::chrono::milliseconds(skew_ms.load()); };
    app = std::make_unique<web::App>(assess::Context{bank, rules, grader, *store}, options);
    token = *app->ensure_interviewer_token(false);
    auto [ln, err] = gocxx::net::listen("tcp", "127.0.0.1:0");
    EXPECT_FALSE(err) << err;
    base = "http://" + ln.addr().string();
    srv.handler = app->handler();
    gocxx::go([this, ln = std::move(ln)]() mutable { served.send(srv.serve(std::move(ln))); });
  }
  ~Server() {
    app->close();
    (void)srv.shutdown(gocxx::context::background());
    served.recv();
    fs::remove_all(dir);
  }
  Browser browser() { return Browser{.base = base}; }
  Browser interviewer() {
    Browser b = browser();
    Reply r = b.get("/login?token=" + token);
    EXPECT_EQ(r.status, 303);
    return b;
  }
  // Creates an assessment of the robustness dimension; returns the page with its link.
  Reply create(Browser& i, const std::string& handle, const std::string& extra = "") {
    std::string csrf = csrf_of(i.get("/i/new").body);
    return i.post("/i/assessments", "csrf=" + csrf + "&handle=" + http::query_escape(handle) +
                                        "&name=Name&dimension=robustness&time_limit_min=0&max_items=3&expiry_hours=1" + extra);
  }
};

// ---- escaping and forms (no server) ----------------------------------------------------------

TEST(WebHtml, EscapesEverythingAndRendersStatementsSafely) {
  EXPECT_EQ(web::escape("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &#34;q&#34;");
  std::string md = web::markdown(
      "Hello <b>world</b> and `a<b`\n\n```go\nif a < b { }\n```\n[link](javascript:alert(1)) **bold** "
      "[go](https://go.dev)\n\n- one\n- two\n\n<script>alert(1)</script>\n<img src=x onerror=alert(1)>\n");
  EXPECT_THAT(md, HasSubstr("<code>a&lt;b</code>"));
  EXPECT_THAT(md, HasSubstr("<pre><code class=\"language-go\">if a &lt; b { }\n</code></pre>"));
  EXPECT_THAT(md, HasSubstr("<strong>bold</strong>"));
  EXPECT_THAT(md, HasSubstr("<li>one</li>"));
  EXPECT_THAT(md, HasSubstr("<a href=\"https://go.dev\">go</a>"));
  // Raw HTML and script URLs never reach the page.
  EXPECT_THAT(md, Not(HasSubstr("<b>")));
  EXPECT_THAT(md, Not(HasSubstr("<script")));
  EXPECT_THAT(md, Not(HasSubstr("<img")));
  EXPECT_THAT(md, Not(HasSubstr("javascript:")));
}

int status_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const web::FormError& e) {
    return e.status();
  }
  return 0;
}

TEST(WebForm, RefusesUnknownFieldsBadEscapesInvalidUtf8AndLooseIntegers) {
  web::Form f = web::Form::parse("a=1&b=x+y%21&c=on&d=1&d=2", {"a", "b", "c", "d", "file:*"});
  EXPECT_EQ(f.get("b"), "x y!");
  EXPECT_EQ(f.integer("a", 0, 5), 1);
  EXPECT_TRUE(f.flag("c"));
  EXPECT_EQ(f.all("d"), (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(status_of([&] { f.get("d"); }), 400);          // given twice
  EXPECT_EQ(status_of([&] { f.get("missing"); }), 400);
  EXPECT_EQ(status_of([] { web::Form::parse("zz=1", {"a"}); }), 400);
  EXPECT_EQ(status_of([] { web::Form::parse("a=%zz", {"a"}); }), 400);
  EXPECT_EQ(status_of([] { web::Form::parse("a=%ff%fe", {"a"}); }), 400);      // not UTF-8
  EXPECT_EQ(status_of([] { web::Form::parse("a=%c0%af", {"a"}); }), 400);      // overlong
  EXPECT_EQ(web::Form::parse("file:x.go=1", {"file:*"}).with_prefix("file:").at("x.go"), "1");
  for (const char* bad : {"-1", "+1", " 1", "1 ", "1e3", "0x10", "", "99999999999999999999", "6"}) {
    web::Form g = web::Form::parse(std::string("n=") + http::query_escape(bad), {"n"});
    EXPECT_EQ(status_of([&] { g.integer("n", 0, 5); }), 400) << bad;
  }
}

TEST(WebRateLimiter, ABucketEmptiesThenRefillsOneTokenPerPeriod) {
  web::RateLimiter rl({.burst = 2, .refill = 10s});
  assess::Time t0 = assess::now();
  EXPECT_EQ(rl.take("a", t0).count(), 0);
  EXPECT_EQ(rl.take("a", t0).count(), 0);
  EXPECT_EQ(rl.take("a", t0).count(), 10);
  EXPECT_EQ(rl.take("b", t0).count(), 0);  // per key
  EXPECT_EQ(rl.take("a", t0 + 4s).count(), 6);
  EXPECT_EQ(rl.take("a", t0 + 10s).count(), 0);
}

// ---- over HTTP -------------------------------------------------------------------------------

TEST(WebSecurity, LoginSetsAStrictHttpOnlyCookieAndLimitsAttemptsPerAddress) {
  gocxx::run([] {
    Server s({.login = {.burst = 3, .refill = 60s}});
    Browser b = s.browser();
    EXPECT_EQ(b.get("/i/").status, 303);  // not logged in: to the login page
    EXPECT_EQ(b.get("/login?token=wrong").status, 403);
    Reply ok = b.get("/login?token=" + s.token);
    EXPECT_EQ(ok.status, 303);
    EXPECT_EQ(ok.header.get("Location"), "/i/");
    std::string cookie = ok.header.get("Set-Cookie");
    EXPECT_THAT(cookie, HasSubstr("HttpOnly"));
    EXPECT_THAT(cookie, HasSubstr("SameSite=Strict"));
    EXPECT_THAT(cookie, HasSubstr("Path=/"));
    // The cookie's token is not what the database holds: only its hash is.
    std::string session_token = b.cookies.at("assess_i");
    EXPECT_FALSE(s.store->find_web_session(session_token.size() == 64 ? session_token : std::string(64, '0'), assess::now()));
    Reply list = b.get("/i/");
    EXPECT_EQ(list.status, 200);
    EXPECT_EQ(list.header.get("Cache-Control"), "no-store");
    // The bucket holds 3 attempts per address: the third is answered, the fourth is not.
    EXPECT_EQ(s.browser().send("POST", "/login", "token=wrong").status, 403);
    Reply limited = s.browser().send("POST", "/login", "token=wrong");
    EXPECT_EQ(limited.status, 429);
    EXPECT_NE(limited.header.get("Retry-After"), "");
  });
}

TEST(WebSecurity, PostsNeedTheSessionsCsrfTokenAndNoForeignOrigin) {
  gocxx::run([] {
    Server s;
    Browser i = s.interviewer();
    std::string csrf = csrf_of(i.get("/i/new").body);
    const std::string form = "handle=bob&dimension=robustness&time_limit_min=0&max_items=3&expiry_hours=1";
    EXPECT_EQ(i.post("/i/assessments", form).status, 403);
    EXPECT_EQ(i.post("/i/assessments", "csrf=" + std::string(csrf.size(), 'A') + "&" + form).status, 403);
    EXPECT_EQ(i.send("POST", "/i/assessments", "csrf=" + csrf + "&" + form, "application/x-www-form-urlencoded",
                     {{"Origin", "http://evil.example"}})
                  .status,
              403);
    // An opaque origin (a sandboxed frame, or a page whose Referrer-Policy is no-referrer).
    EXPECT_EQ(i.send("POST", "/i/assessments", "csrf=" + csrf + "&" + form, "application/x-www-form-urlencoded",
                     {{"Origin", "null"}})
                  .status,
              403);
    EXPECT_TRUE(s.store->list_sessions({}).empty());
    Reply made = i.send("POST", "/i/assessments", "csrf=" + csrf + "&" + form, "application/x-www-form-urlencoded",
                        {{"Origin", s.base}});
    EXPECT_EQ(made.status, 200) << made.body;
    EXPECT_EQ(s.store->list_sessions({}).size(), 1u);
    // Another interviewer session's token is not this one's.
    Browser other = s.interviewer();
    EXPECT_EQ(other.post("/i/assessments", "csrf=" + csrf + "&" + form).status, 403);
  });
}

TEST(WebSecurity, ACandidateLinkPreviewsFreelyWorksOnceAndExpires) {
  gocxx::run([] {
    Server s;
    Browser i = s.interviewer();
    std::string link = link_of(s.create(i, "carol").body);
    Browser c = s.browser();
    EXPECT_EQ(c.get(link).status, 200);  // a preview does not use it
    EXPECT_EQ(c.get(link).status, 200);
    Reply used = c.post(link, "");
    EXPECT_EQ(used.status, 303);
    EXPECT_EQ(used.header.get("Location"), "/c/");
    EXPECT_EQ(c.get("/c/").status, 200);
    EXPECT_EQ(s.browser().post(link, "").status, 404);  // single use
    EXPECT_EQ(s.browser().get(link).status, 404);
    EXPECT_EQ(s.browser().get("/c/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").status, 404);

    std::string late = link_of(s.create(i, "dave").body);  // valid for 1 hour
    s.skew_ms = 2 * 3600 * 1000;
    EXPECT_EQ(s.browser().get(late).status, 404);
    EXPECT_EQ(s.browser().post(late, "").status, 404);
  });
}

TEST(WebSecurity, ACandidateCookieReachesItsOwnSessionOnly) {
  gocxx::run([] {
    Server s;
    Browser i = s.interviewer();
    std::string first = link_of(s.create(i, "erin").body);
    s.create(i, "frank");
    Browser c = s.browser();
    ASSERT_EQ(c.post(first, "").status, 303);
    for (const char* path : {"/i/", "/i/new", "/i/assessments/1", "/i/assessments/2/report",
                             "/i/assessments/2/report.json", "/i/compare?s=1&s=2", "/debug/pprof/", "/metrics"})
      EXPECT_EQ(c.get(path).status, 403) << path;
    EXPECT_EQ(c.post("/i/assessments", "handle=x").status, 403);
    EXPECT_EQ(c.get("/c/result/1").status, 404);  // nothing answered in its own session yet
    // Without any cookie, candidate pages are closed.
    EXPECT_EQ(s.browser().get("/c/").status, 403);
    // The interviewer reaches the debug endpoints.
    EXPECT_EQ(i.get("/debug/pprof/").status, 200);
  });
}

TEST(WebSecurity, GradingIsRateLimitedPerCandidateAndStaleFormsAreRefused) {
  gocxx::run([] {
    Server s({.grading = {.burst = 2, .refill = 3600s}});
    Browser i = s.interviewer();
    Browser c = s.browser();
    ASSERT_EQ(c.post(link_of(s.create(i, "gina").body), "").status, 303);
    std::string page = c.get("/c/").body;
    std::string csrf = csrf_of(page);
    // seq 7 is not the current item: refused without grading (nothing recorded).
    for (int k = 0; k < 2; ++k) EXPECT_EQ(c.post("/c/answer", "csrf=" + csrf + "&seq=7&choice=0").status, 409);
    Reply limited = c.post("/c/answer", "csrf=" + csrf + "&seq=1&choice=0");
    EXPECT_EQ(limited.status, 429);
    // About an hour (a second more when the clock ticked over between the two takes).
    std::optional<long long> retry = web::parse_integer(limited.header.get("Retry-After"), 3500, 3601);
    EXPECT_TRUE(retry) << limited.header.get("Retry-After");
    EXPECT_TRUE(s.store->load_session(1).responses.empty());
  });
}

TEST(WebSecurity, BadBodiesAreRefusedWithTheirStatus) {
  gocxx::run([] {
    Server s;
    Browser i = s.interviewer();
    std::string csrf = csrf_of(i.get("/i/new").body);
    EXPECT_EQ(i.send("POST", "/i/assessments", "{\"handle\": \"x\"}", "application/json").status, 415);
    EXPECT_EQ(i.send("POST", "/i/assessments", "csrf=" + csrf, "multipart/form-data; boundary=x").status, 415);
    EXPECT_EQ(i.post("/i/assessments", "csrf=" + csrf + "&handle=" + std::string(64 << 10, 'x')).status, 413);
    const std::string rest = "&dimension=robustness&time_limit_min=0&max_items=3&expiry_hours=1";
    EXPECT_EQ(i.post("/i/assessments", "csrf=" + csrf + "&handle=%ff%fe" + rest).status, 400);
    EXPECT_EQ(i.post("/i/assessments", "csrf=" + csrf + "&handle=x&admin=1" + rest).status, 400);
    EXPECT_EQ(i.post("/i/assessments", "csrf=" + csrf + "&handle=x&dimension=robustness&time_limit_min=0&max_items=-3&expiry_hours=1").status, 400);
    EXPECT_EQ(i.post("/i/assessments", "csrf=" + csrf + "&handle=x&dimension=nonsense&time_limit_min=0&max_items=3&expiry_hours=1").status, 400);
    EXPECT_EQ(i.post("/i/assessments", "csrf=" + csrf + "&handle=x&dimension=robustness&dimension=robustness&time_limit_min=0&max_items=3&expiry_hours=1").status, 400);
    EXPECT_EQ(i.post("/i/assessments", "csrf=" + csrf + "&handle=%0Abad" + rest).status, 400);  // control character
    EXPECT_TRUE(s.store->list_sessions({}).empty());
    // Answers: over the cap is 413 before anything is parsed.
    Browser c = s.browser();
    ASSERT_EQ(c.post(link_of(s.create(i, "hank").body), "").status, 303);
    std::string ccsrf = csrf_of(c.get("/c/").body);
    EXPECT_EQ(c.post("/c/answer", "csrf=" + ccsrf + "&seq=1&text=" + std::string(4 * assess::kMaxAnswerBytes, 'a')).status, 413);
    c.client = http::Client{};  // the server closed that connection after the 413 (as Go's does)
    EXPECT_EQ(c.post("/c/answer", "csrf=" + ccsrf + "&seq=1&choice=9").status, 400);
    EXPECT_EQ(c.post("/c/answer", "csrf=" + ccsrf + "&seq=1&file:../../etc/passwd=x").status, 400);
  });
}

TEST(WebSecurity, EveryPageIsEscapedAndCarriesTheSecurityHeaders) {
  gocxx::run([] {
    Server s;
    Browser i = s.interviewer();
    ASSERT_EQ(s.create(i, "<script>alert(1)</script>").status, 200);
    Reply list = i.get("/i/");
    EXPECT_THAT(list.body, HasSubstr("&lt;script&gt;alert(1)&lt;/script&gt;"));
    EXPECT_THAT(list.body, Not(HasSubstr("<script>alert")));
    for (const char* path : {"/i/", "/login", "/nowhere", "/i/assessments/99", "/i/assessments/x/report", "/c/x",
                             "/i/checklists", "/i/checklists/1"}) {
      Reply r = i.get(path);
      EXPECT_THAT(r.header.get("Content-Security-Policy"), HasSubstr("default-src 'self'")) << path;
      EXPECT_THAT(r.header.get("Content-Security-Policy"), HasSubstr("frame-ancestors 'none'")) << path;
      EXPECT_EQ(r.header.get("X-Content-Type-Options"), "nosniff") << path;
      EXPECT_EQ(r.header.get("Referrer-Policy"), "same-origin") << path;
      EXPECT_EQ(r.header.get("X-Frame-Options"), "DENY") << path;
      EXPECT_THAT(r.body, Not(HasSubstr("<script>"))) << path;  // only <script src=...>
      EXPECT_THAT(r.body, Not(HasSubstr("style="))) << path;
    }
    EXPECT_EQ(i.get("/nowhere").status, 404);
    EXPECT_EQ(i.get("/i/assessments/99").status, 404);
    EXPECT_EQ(i.get("/i/assessments/x/report").status, 404);
    // Static files: their type and an ETag that a revalidation matches.
    Reply css = i.get("/static/app.css");
    EXPECT_EQ(css.status, 200);
    EXPECT_THAT(css.header.get("Content-Type"), HasSubstr("text/css"));
    Reply again = i.send("GET", "/static/app.css", "", "", {{"If-None-Match", css.header.get("ETag")}});
    EXPECT_EQ(again.status, 304);
    EXPECT_EQ(i.get("/static/nope.js").status, 404);
  });
}

// The comparison reads its ids from the query string (a regression: it kept a pointer into a
// destroyed copy of the query, which ASan reports); every name in it is escaped.
TEST(WebSecurity, TheComparisonEscapesNamesAndRefusesBadIds) {
  gocxx::run([] {
    Server s;
    Browser i = s.interviewer();
    ASSERT_EQ(s.create(i, "<b>ann</b>").status, 200);
    ASSERT_EQ(s.create(i, "ben").status, 200);
    Reply form = i.get("/i/compare");
    EXPECT_EQ(form.status, 200);
    EXPECT_THAT(form.body, HasSubstr("value=\"2\"> #2 ben"));
    Reply both = i.get("/i/compare?s=1&s=2");
    ASSERT_EQ(both.status, 200) << both.body;
    EXPECT_THAT(both.body, HasSubstr("<th class=\"wide\">#1 &lt;b&gt;ann&lt;/b&gt;</th><th class=\"wide\">#2 ben</th>"));
    EXPECT_THAT(both.body, HasSubstr("<tr><td>robustness</td><td>score "));
    EXPECT_THAT(both.body, Not(HasSubstr("<b>ann")));
    for (const char* bad : {"/i/compare?s=1&s=99", "/i/compare?s=x", "/i/compare?s=0", "/i/compare?s=-1"})
      EXPECT_EQ(i.get(bad).status, 404) << bad;
    std::string many = "/i/compare?s=1";
    for (int k = 0; k < 20; ++k) many += "&s=2";
    EXPECT_EQ(i.get(many).status, 400);
  });
}

// `assess checklist --db` runs: listed and shown to interviewers only, the service's text escaped.
TEST(WebChecklists, InterviewersSeeTheRunsEscapedCandidatesDoNot) {
  gocxx::run([] {
    Server s;
    using J = nlohmann::json;
    auto item = [](const char* id, const char* title, const char* status, J evidence) {
      return J{{"id", id}, {"title", title}, {"status", status}, {"evidence", std::move(evidence)}};
    };
    J report = {{"target", "http://127.0.0.1:9/<svc>"},
                {"lang", "go"},
                {"checked_at", "2026-01-02T03:04:05Z"},
                {"items", J::array({item("gc-pause", "GC pauses <= 10 ms", "pass", J::array({"max pause 1.2 ms"})),
                                    item("structured-logs", "Structured logs", "fail",
                                         J::array({"log line: <script>alert(1)</script>", "trace_id \"abc\" & more"})),
                                    item("db-pool", "DB pool", "not-applicable", J::array({"no database/sql"}))})}};
    assess::ChecklistRun run = s.store->save_checklist_run({.id = 0,
                                                            .target = "http://127.0.0.1:9/<svc>",
                                                            .lang = "go",
                                                            .checked_at = assess::now(),
                                                            .report_json = report.dump()});
    const std::string id = std::to_string(run.id);
    Browser i = s.interviewer();
    Reply list = i.get("/i/checklists");
    ASSERT_EQ(list.status, 200);
    EXPECT_THAT(list.body, HasSubstr("http://127.0.0.1:9/&lt;svc&gt;"));
    EXPECT_THAT(list.body, HasSubstr("1 pass, 1 fail, 1 not applicable"));
    EXPECT_THAT(list.body, HasSubstr("href=\"/i/checklists/" + id + "\""));
    Reply page = i.get("/i/checklists/" + id);
    ASSERT_EQ(page.status, 200);
    EXPECT_EQ(page.header.get("Cache-Control"), "no-store");
    EXPECT_THAT(page.body, HasSubstr("<li>log line: &lt;script&gt;alert(1)&lt;/script&gt;</li>"));
    EXPECT_THAT(page.body, HasSubstr("<li>trace_id &#34;abc&#34; &amp; more</li>"));
    EXPECT_THAT(page.body, HasSubstr("GC pauses &lt;= 10 ms"));
    EXPECT_THAT(page.body, HasSubstr("<td class=\"verdict fail\">fail</td>"));
    EXPECT_THAT(page.body, Not(HasSubstr("<script>alert")));
    EXPECT_THAT(page.body, Not(HasSubstr("<svc>")));
    Reply json = i.get("/i/checklists/" + id + "/report.json");
    ASSERT_EQ(json.status, 200);
    EXPECT_EQ(json.header.get("Content-Type"), "application/json");
    EXPECT_THAT(json.header.get("Content-Disposition"), HasSubstr("attachment"));
    EXPECT_EQ(nlohmann::json::parse(json.body), report);
    for (const std::string path : {"/i/checklists/" + std::to_string(run.id + 1), std::string("/i/checklists/x"),
                                   std::string("/i/checklists/0"), std::string("/i/checklists/x/report.json")})
      EXPECT_EQ(i.get(path).status, 404) << path;

    Browser c = s.browser();
    ASSERT_EQ(c.post(link_of(s.create(i, "cara").body), "").status, 303);
    for (const std::string path : {std::string("/i/checklists"), "/i/checklists/" + id, "/i/checklists/" + id + "/report.json"}) {
      Reply r = c.get(path);
      EXPECT_EQ(r.status, 403) << path;
      EXPECT_THAT(r.body, Not(HasSubstr("alert(1)"))) << path;
      EXPECT_EQ(s.browser().get(path).status, 303) << path;  // a stranger is sent to log in
    }
  });
}

}  // namespace

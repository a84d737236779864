// Logging in and out. The interviewer's credential is one token (`assess serve` prints the
// login URL); attempts are limited per remote address, and compared by hash in constant time.
#include "web/app_impl.hpp"

namespace assess::web {

namespace {

void attempt(App::Impl& app, Visit& v, const std::string& token) {
  v.limit(app.login, remote_ip(v.r), app.now());
  std::optional<std::string> stored = app.db([](Store& st) { return st.interviewer_token(); });
  if (!stored || !constant_time_equal(sha256_hex(token), *stored))
    throw FormError(http::status_forbidden, "that is not the interviewer's token");
  app.log_in(v.w, WebRole::interviewer, std::nullopt);
  v.see_other("/i/");
}

}  // namespace

void add_login_pages(App::Impl& app) {
  app.route("GET /login", Access::open, [&app](Visit& v) {
    if (std::string token = v.r.url.query().get("token"); !token.empty()) return attempt(app, v, token);
    send_page(v.w, http::status_ok, "Log in",
              "<h1>Interviewer login</h1><form method=\"post\" action=\"/login\" class=\"card\">"
              "<label>Token <input type=\"password\" name=\"token\" autocomplete=\"off\" required></label>"
              "<button type=\"submit\">Log in</button></form>"
              "<p class=\"muted\">The token is printed by <code>assess serve</code> when it first starts "
              "(<code>--new-token</code> makes a new one).</p>",
              Nav::none);
  });
  app.route("POST /login", Access::open, [&app](Visit& v) {
    Form f = read_form(v.w, v.r, kSmallForm, {"token"});
    attempt(app, v, f.get("token"));
  });
  app.route("POST /logout", Access::interviewer, [&app](Visit& v) {
    v.form(kSmallForm, {});
    app.db([&](Store& st) { st.delete_web_session(v.who.token_hash); });
    v.w.header().add("Set-Cookie", set_cookie(kInterviewerCookie, "", std::chrono::seconds(0)));
    v.see_other("/login");
  });
}

}  // namespace assess::web

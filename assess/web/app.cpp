#include "web/app.hpp"

#include <iostream>
#include <limits>

#include <gocxx/defer.hpp>

#include "engine/store_input.hpp"
#include "web/app_impl.hpp"
#include "web/static.hpp"

namespace assess::web {

Form Visit::form(std::size_t max_bytes, const std::vector<std::string_view>& fields) {
  std::vector<std::string_view> with_csrf(fields);
  with_csrf.push_back("csrf");
  Form f = read_form(w, r, max_bytes, with_csrf);
  if (!f.has("csrf") || !constant_time_equal(f.get("csrf"), who.csrf))
    throw FormError(http::status_forbidden, "the form's CSRF token is missing or wrong: reload the page");
  return f;
}

void Visit::see_other(const std::string& to) {
  w.header().set("Location", to);
  w.write_header(303);
}

void Visit::limit(RateLimiter& limiter, const std::string& key, Time at) {
  std::chrono::seconds wait = limiter.take(key, at);
  if (wait.count() == 0) return;
  w.header().set("Retry-After", std::to_string(wait.count()));
  throw FormError(http::status_too_many_requests, "too many attempts: try again in " + std::to_string(wait.count()) + " s");
}

App::Impl::Impl(const Context& c, AppOptions o)
    : ctx(c), options(std::move(o)), live(c), grading(options.grading), login(options.login) {}

namespace {

// Which web session the request's cookie names, if it is valid and of `role`.
std::optional<WebSession> session_of(App::Impl& app, const http::Request& r, WebRole role) {
  std::optional<std::string> token = cookie(r, role == WebRole::interviewer ? kInterviewerCookie : kCandidateCookie);
  if (!token || token->empty()) return std::nullopt;
  std::string hash = sha256_hex(*token);
  std::optional<WebSession> s = app.db([&](Store& st) { return st.find_web_session(hash, app.now()); });
  if (!s || s->role != role) return std::nullopt;
  return s;
}

}  // namespace

void App::Impl::route(std::string_view pattern, Access access, std::function<void(Visit&)> f) {
  mux.handle_func(pattern, [this, access, f = std::move(f)](http::ResponseWriter& w, http::Request& r) {
    security_headers(w.header(), access != Access::open);
    try {
      if (r.method == "POST" && cross_origin(r))
        throw FormError(http::status_forbidden, "cross-origin form posts are refused");
      Visit v{w, r, {}};
      if (access == Access::interviewer) {
        std::optional<WebSession> s = session_of(*this, r, WebRole::interviewer);
        if (!s) {
          // A candidate's browser never reaches interviewer pages; a stranger is sent to log in.
          if (r.method == "GET" && !session_of(*this, r, WebRole::candidate)) return v.see_other("/login");
          throw FormError(http::status_forbidden, "interviewers only: log in with the interviewer's token");
        }
        v.who = std::move(*s);
      } else if (access == Access::candidate) {
        std::optional<WebSession> s = session_of(*this, r, WebRole::candidate);
        if (!s) throw FormError(http::status_forbidden, "no assessment in this browser: open the link you were given");
        v.who = std::move(*s);
      }
      f(v);
    } catch (const FormError& e) {
      send_error(w, e.status(), e.what());
    } catch (const std::exception& e) {
      std::cerr << "assess serve: " << r.method << " " << r.url.path << ": " << e.what() << "\n";
      send_error(w, http::status_internal_server_error, "something went wrong; the server's log says what");
    }
  });
}

void App::Impl::log_in(http::ResponseWriter& w, WebRole role, std::optional<SessionId> session) {
  std::string token = random_token();
  std::chrono::seconds ttl = role == WebRole::interviewer ? options.interviewer_ttl : options.candidate_ttl;
  WebSession s{.token_hash = sha256_hex(token),
               .role = role,
               .session = session,
               .csrf = random_token(),
               .expires_at = now() + ttl};
  db([&](Store& st) { return st.create_web_session(s); });
  w.header().add("Set-Cookie",
                 set_cookie(role == WebRole::interviewer ? kInterviewerCookie : kCandidateCookie, token, ttl));
}

nlohmann::json App::Impl::progress(SessionId id) {
  SessionRecord rec = db([&](Store& st) { return st.load_session(id); });
  int correct = 0;
  for (const Response& r : rec.responses) correct += r.correct ? 1 : 0;
  nlohmann::json estimates = nlohmann::json::array();
  for (const std::string& d : rec.session.config.dimensions) {
    if (std::optional<Estimate> e = rec.latest_estimate(d))
      estimates.push_back({{"dimension", d}, {"theta", e->theta}, {"se", e->se}});
  }
  nlohmann::json j{{"session", id},
                   {"state", to_string(rec.session.state)},
                   {"answered", rec.responses.size()},
                   {"correct", correct},
                   {"presented", rec.presented.size()},
                   {"estimates", estimates}};
  if (std::optional<Presentation> p = rec.pending())
    j["current"] = {{"seq", p->seq}, {"item", p->item}, {"dimension", p->dimension}};
  return j;
}

SessionRecord load_record(App::Impl& app, std::string_view id) {
  std::optional<long long> n = parse_integer(id, 1, std::numeric_limits<SessionId>::max());
  if (!n) throw FormError(http::status_not_found, "no assessment \"" + std::string(id) + "\"");
  try {
    return app.db([&](Store& st) { return st.load_session(*n); });
  } catch (const StoreError&) {
    throw FormError(http::status_not_found, "no assessment " + std::to_string(*n));
  }
}

App::App(const Context& ctx, AppOptions options) : impl_(std::make_unique<Impl>(ctx, std::move(options))) {
  Impl& app = *impl_;
  app.mux.handle_func("GET /static/{name}", [](http::ResponseWriter& w, http::Request& r) {
    security_headers(w.header(), false);
    const Asset* a = find_asset(r.path_value("name"));
    if (!a) return send_error(w, http::status_not_found, "no such file");
    w.header().set("ETag", a->etag);
    w.header().set("Cache-Control", "no-cache");
    if (r.header.get("If-None-Match") == a->etag) return w.write_header(http::status_not_modified);
    w.header().set("Content-Type", a->type);
    (void)w.write(a->content);
  });
  app.route("GET /{$}", Access::open, [](Visit& v) { v.see_other("/i/"); });
  // Everything else is a 404 page with the security headers (the mux's own 404 has none).
  app.route("/", Access::open, [](Visit&) { throw FormError(http::status_not_found, "no such page"); });
  gocxx::debug::register_handlers(app.debug_mux);
  for (std::string_view pattern : {"/debug/", "/metrics"}) {
    app.route(pattern, Access::interviewer, [&app](Visit& v) { app.debug_mux.serve_http(v.w, v.r); });
  }
  add_login_pages(app);
  add_interviewer_pages(app);
  add_candidate_pages(app);
  add_dashboard_pages(app);
  add_checklist_pages(app);
}

App::~App() = default;

http::Handler& App::handler() { return impl_->mux; }

std::optional<std::string> App::ensure_interviewer_token(bool fresh) {
  Impl& app = *impl_;
  if (!fresh && app.db([](Store& st) { return st.interviewer_token(); })) return std::nullopt;
  std::string token = random_token();
  app.db([&](Store& st) { st.set_interviewer_token(sha256_hex(token)); });
  return token;
}

void App::close() { impl_->hub.close(); }

}  // namespace assess::web

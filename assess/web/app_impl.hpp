// App's insides, shared by the files that register its pages (pages_*.cpp, dashboard.cpp): the
// route wrapper that applies the security model, and what every page needs.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include <gocxx/http.hpp>
#include <gocxx/runtime.hpp>
#include <nlohmann/json.hpp>

#include "web/app.hpp"
#include "web/form.hpp"
#include "web/html.hpp"
#include "web/hub.hpp"
#include "web/live.hpp"

namespace assess::web {

namespace http = gocxx::http;

inline constexpr std::string_view kInterviewerCookie = "assess_i";
inline constexpr std::string_view kCandidateCookie = "assess_c";
inline constexpr std::size_t kSmallForm = 16u << 10;
// An answer's files, percent-encoded (up to 3 bytes per byte), plus the other fields.
inline constexpr std::size_t kAnswerForm = 3 * kMaxAnswerBytes + kSmallForm;

enum class Access { open, interviewer, candidate };

// One request to a page: the writer, the request, and who sent it (for interviewer and
// candidate pages: their web session, already checked).
struct Visit {
  http::ResponseWriter& w;
  http::Request& r;
  WebSession who;

  // The POST's form, its CSRF token checked (FormError 403 when missing or wrong).
  Form form(std::size_t max_bytes, const std::vector<std::string_view>& fields);
  // A 303 to `to` (POST-redirect-GET).
  void see_other(const std::string& to);
  // Takes a token from `limiter` for `key`; none left: FormError 429, with Retry-After set.
  void limit(RateLimiter& limiter, const std::string& key, Time at);
};

struct App::Impl {
  Impl(const Context& ctx, AppOptions options);

  // Registers `pattern` with the security model around f: headers, Origin check on POSTs, the
  // access check, and errors turned into pages (FormError: its status; others: 500, logged).
  void route(std::string_view pattern, Access access, std::function<void(Visit&)> f);
  // Store calls park the goroutine's thread (gocxx::blocking); never around Assessment calls,
  // which block inside themselves.
  template <class F>
  decltype(auto) db(F&& f) {
    return gocxx::blocking([&]() -> decltype(auto) { return f(ctx.store); });
  }
  // A new web session and its cookie.
  void log_in(http::ResponseWriter& w, WebRole role, std::optional<SessionId> session);
  // The progress event of a session (the watch page's panel), published to the hub.
  nlohmann::json progress(SessionId id);
  void publish(SessionId id) { hub.publish(id, progress(id).dump()); }
  Time now() const { return options.clock(); }

  Context ctx;
  AppOptions options;
  http::ServeMux mux;
  http::ServeMux debug_mux;
  Hub hub;
  Live live;
  RateLimiter grading, login;
};

// The session a path's {id} names, with everything stored about it; FormError 404 when the id
// is malformed or unknown.
SessionRecord load_record(App::Impl& app, std::string_view id);

// "a, b, c"
std::string join(const std::vector<std::string>& v, std::string_view sep = ", ");
// "2024-05-01 12:00", in UTC.
std::string utc_date(Time t);

void add_login_pages(App::Impl& app);
void add_interviewer_pages(App::Impl& app);
void add_candidate_pages(App::Impl& app);
void add_dashboard_pages(App::Impl& app);
void add_checklist_pages(App::Impl& app);

}  // namespace assess::web

// `assess serve`: the assessment web application on gocxx::http. Interviewers log in with a
// token and create assessments; each gives a one-time candidate link; the candidate answers in
// the browser, graded by the engine (Assessment::answer) in the request's goroutine; the
// interviewer watches progress live (Server-Sent Events) and reads the report.
//
//   assess::web::App app(ctx);                        // ctx: bank, rules, grader, store
//   if (auto token = app.ensure_interviewer_token(false))
//     std::cout << "log in: http://127.0.0.1:8080/login?token=" << *token << "\n";
//   gocxx::http::Server srv{.addr = "127.0.0.1:8080", .handler = app.handler()};
//   gocxx::go([&] { (void)srv.listen_and_serve(); });
//   ...
//   app.close();                                      // ends the event streams, then
//   (void)srv.shutdown(ctx);                          // in-flight gradings finish
//
// Routes: /login, /logout; interviewer (cookie assess_i): /i/, /i/new, /i/assessments,
// /i/assessments/{id}[/link|/events|/report|/report.json], /i/compare,
// /i/checklists[/{id}[/report.json]] (`assess checklist --db` runs), /debug/..., /metrics;
// candidate (cookie assess_c, bound to one session): /c/{token} (start), /c/, /c/answer,
// /c/result/{seq}; /static/{name}. The security model: docs in /work/helpers/web-docs.md.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <gocxx/http.hpp>

#include "engine/session.hpp"
#include "web/auth.hpp"

namespace assess::web {

struct AppOptions {
  std::function<Time()> clock = assess::now;  // expiries and rate limits (tests move it)
  RateLimiter::Config grading{.burst = 3, .refill = std::chrono::seconds(10)};  // per candidate
  RateLimiter::Config login{.burst = 10, .refill = std::chrono::seconds(30)};   // per address
  std::chrono::seconds interviewer_ttl = std::chrono::hours(12);
  std::chrono::seconds candidate_ttl = std::chrono::hours(24 * 7);
};

class App {
 public:
  explicit App(const Context& ctx, AppOptions options = {});
  ~App();
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  gocxx::http::Handler& handler();
  // The interviewer's token when a new one was made: always when `fresh`, else only when the
  // database has none. The database keeps only its hash, so this is the one chance to show it.
  std::optional<std::string> ensure_interviewer_token(bool fresh);
  // Ends the open event streams (call on shutdown, before waiting for connections).
  void close();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace assess::web

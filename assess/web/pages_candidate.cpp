// The candidate's pages. A link (/c/<token>) is previewed by GET without being used (mail
// scanners fetch links), used by POST, which binds this browser's cookie to the one session;
// then one item at a time, graded in the request's goroutine, POST-redirect-GET to the result.
// Only CandidateView and the grader's results.json (as the CLI shows it) reach the page.
#include <mutex>

#include "web/app_impl.hpp"

namespace assess::web {

namespace {

std::string minutes(std::chrono::milliseconds ms) {
  long long s = ms.count() / 1000;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld:%02lld", s / 60, s % 60);
  return buf;
}

std::string unix_newlines(std::string s) {
  std::erase(s, '\r');
  return s;
}

void start_page(App::Impl& app, Visit& v) {
  std::string token = v.r.path_value("token");
  std::optional<Invite> inv = app.db([&](Store& st) { return st.find_invite(sha256_hex(token)); });
  if (inv && inv->used_at) {
    // This browser used it: a reload of the start page goes on with the assessment.
    std::optional<std::string> mine = cookie(v.r, kCandidateCookie);
    std::optional<WebSession> s;
    if (mine) s = app.db([&](Store& st) { return st.find_web_session(sha256_hex(*mine), app.now()); });
    if (s && s->session == inv->session) return v.see_other("/c/");
  }
  if (!inv || inv->used_at || inv->expires_at <= app.now())
    throw FormError(http::status_not_found, "this link does not work: it was used, it expired, or it never existed; ask for a new one");
  SessionRecord rec = app.db([&](Store& st) { return st.load_session(inv->session); });
  const SessionConfig& c = rec.session.config;
  std::string limit = c.time_limit.count() ? std::to_string(c.time_limit.count() / 60) + " minutes in all" : "no overall time limit";
  send_page(v.w, http::status_ok, "Start",
            "<h1>Go concurrency assessment</h1><div class=\"card\"><p>For <strong>" +
                escape(rec.candidate.name.empty() ? rec.candidate.handle : rec.candidate.name) +
                "</strong>: " + escape(join(c.dimensions)) + "; up to " + std::to_string(c.max_items) +
                " items per dimension; " + escape(limit) + (c.pressure ? "; pressure mode" : "") +
                ".</p><p>Items come one at a time; some have their own timer. This link works once: "
                "after you start, this browser keeps your place (a reload continues where you were).</p>"
                "<form method=\"post\" action=\"/c/" + escape(token) + "\"><button type=\"submit\">Start</button></form></div>",
            Nav::none);
}

void redeem(App::Impl& app, Visit& v) {
  read_form(v.w, v.r, kSmallForm, {});
  std::string hash = sha256_hex(v.r.path_value("token"));
  std::optional<SessionId> id = app.db([&](Store& st) { return st.redeem_invite(hash, app.now()); });
  if (!id) throw FormError(http::status_not_found, "this link does not work: it was used, it expired, or it never existed");
  app.log_in(v.w, WebRole::candidate, *id);
  v.see_other("/c/");
}

std::string answer_fields(const CandidateView& view) {
  std::string out;
  if (view.answer == "choice") {
    out += "<fieldset class=\"choices\"><legend>Your answer</legend>";
    for (std::size_t i = 0; i < view.choices.size(); ++i)
      out += "<label class=\"choice\"><input type=\"radio\" name=\"choice\" value=\"" + std::to_string(i) +
             "\" required> <code>" + escape(view.choices[i]) + "</code></label>";
    return out + "</fieldset>";
  }
  if (view.answer == "number")
    return "<label>Your answer (a number) <input name=\"text\" inputmode=\"numeric\" required autocomplete=\"off\"></label>";
  if (view.answer == "output")
    return "<label>The program's output<textarea name=\"text\" class=\"code\" rows=\"8\" spellcheck=\"false\"></textarea></label>";
  for (const auto& [name, content] : view.files) {
    if (std::find(view.editable.begin(), view.editable.end(), name) == view.editable.end()) continue;
    out += "<label>" + escape(name) + "<textarea name=\"file:" + escape(name) +
           "\" class=\"code editor\" rows=\"24\" spellcheck=\"false\" data-tabs>" + escape(content) + "</textarea></label>";
  }
  return out;
}

void item_page(Visit& v, const Current& c) {
  const CandidateView& view = c.view;
  std::string meta = escape(view.dimension) + " · level " + std::to_string(view.level) + " · " + to_string(view.kind);
  std::string time_up;
  if (c.remaining) {
    meta += " · <span class=\"timer\" data-remaining-ms=\"" + std::to_string(c.remaining->count()) + "\">" +
            minutes(*c.remaining) + "</span> left";
    // Shown by app.js when the countdown reaches zero (at once when it already has).
    time_up = std::string("<p class=\"notice\" role=\"status\" data-time-up") + (c.remaining->count() > 0 ? " hidden" : "") +
              ">Time is up for this item. Nothing was sent for you: submit your answer to go on; it counts as late "
              "(not right).</p>";
  }
  std::string files;
  for (const auto& [name, content] : view.files) {
    if (std::find(view.editable.begin(), view.editable.end(), name) != view.editable.end()) continue;
    files += "<figure><figcaption>" + escape(name) + "</figcaption><pre class=\"code\"><code>" + escape(content) +
             "</code></pre></figure>";
  }
  if (!view.artifact.empty())
    files += "<figure><figcaption>artifact</figcaption><pre class=\"code\"><code>" + escape(view.artifact) + "</code></pre></figure>";
  send_page(v.w, http::status_ok, "Item " + std::to_string(c.presentation.seq),
            "<article class=\"item\"><h1>Item " + std::to_string(c.presentation.seq) + " · " + escape(view.title) +
                "</h1><p class=\"meta\">" + meta + "</p><div class=\"statement\">" + markdown(view.statement) + "</div>" +
                files + time_up + "<form method=\"post\" action=\"/c/answer\" class=\"answer\">" + csrf_field(v.who.csrf) +
                "<input type=\"hidden\" name=\"seq\" value=\"" + std::to_string(c.presentation.seq) + "\">" +
                answer_fields(view) + "<button type=\"submit\" data-busy=\"Grading…\">Submit</button></form></article>",
            Nav::candidate, v.who.csrf);
}

void current_page(App::Impl& app, Visit& v) {
  SessionId id = *v.who.session;
  std::shared_ptr<Live::Entry> e = app.live.get(id);
  std::optional<Current> c;
  {
    std::lock_guard lock(e->mu);
    c = app.live.ready(*e, id).current();
  }
  app.publish(id);
  if (!c)
    return send_page(v.w, http::status_ok, "Complete",
                     "<h1>The assessment is complete</h1><p class=\"card\">Thank you. Your answers are saved; "
                     "you may close this window.</p>",
                     Nav::candidate);
  item_page(v, *c);
}

Answer parse_answer(const Form& f, const CandidateView& view) {
  if (view.answer == "choice")
    return Answer{.choice = static_cast<std::size_t>(f.integer("choice", 0, static_cast<long long>(view.choices.size()) - 1))};
  if (view.answer != "files") {
    std::string text = unix_newlines(f.get("text"));
    if (text.size() > kMaxAnswerBytes) throw FormError(http::status_request_entity_too_large, "the answer is too long");
    return Answer{.text = text};
  }
  Answer a;
  std::size_t total = 0;
  for (auto& [name, content] : f.with_prefix("file:")) {
    if (std::find(view.editable.begin(), view.editable.end(), name) == view.editable.end())
      throw FormError(http::status_bad_request, "\"" + name + "\" is not a file you may edit");
    total += content.size();
    a.files[name] = unix_newlines(content);
  }
  if (total > kMaxAnswerBytes) throw FormError(http::status_request_entity_too_large, "the files are too large");
  return a;
}

void submit(App::Impl& app, Visit& v) {
  SessionId id = *v.who.session;
  Form f = v.form(kAnswerForm, {"seq", "choice", "text", "file:*"});
  int seq = static_cast<int>(f.integer("seq", 1, 1'000'000));
  v.limit(app.grading, v.who.token_hash, app.now());
  std::shared_ptr<Live::Entry> e = app.live.get(id);
  std::unique_lock lock(e->mu, std::try_to_lock);
  if (!lock.owns_lock()) throw FormError(kConflict, "your previous answer is still being graded");
  Assessment& a = app.live.ready(*e, id);
  std::optional<Current> c = a.current();
  if (!c) throw FormError(kConflict, "the assessment is complete");
  if (c->presentation.seq != seq)
    throw FormError(kConflict, "this form is for item " + std::to_string(seq) + ", not the current one: reload the page");
  Graded g = a.answer(parse_answer(f, c->view));
  lock.unlock();
  if (!g.recorded) {
    return send_page(v.w, http::status_ok, "Not graded",
                     "<h1>The grader could not grade this answer</h1><p class=\"card\">" +
                         escape(g.results.value("message", "")) +
                         "</p><p>It is not counted. <a href=\"/c/\">Answer again</a></p>",
                     Nav::candidate);
  }
  app.publish(id);
  v.see_other("/c/result/" + std::to_string(seq));
}

void result_page(App::Impl& app, Visit& v) {
  std::optional<long long> seq = parse_integer(v.r.path_value("seq"), 1, 1'000'000);
  SessionRecord rec = app.db([&](Store& st) { return st.load_session(*v.who.session); });
  const Response* resp = nullptr;
  for (const Response& r : rec.responses)
    if (seq && r.seq == *seq) resp = &r;
  if (!resp) throw FormError(http::status_not_found, "no answer to item " + v.r.path_value("seq") + " yet");
  nlohmann::json r = nlohmann::json::parse(resp->results_json);
  // A prediction's message names the key ("expected ..."), which `assess take` shows; a web
  // candidate does not see it, as items are reused from candidate to candidate: only their own
  // answer is shown back.
  const nlohmann::json graded = r.value("assess", nlohmann::json::object());
  const std::string kind = graded.value("kind", "");
  const bool keyed = kind == "predict" || kind == "diagnose";
  std::string verdict = resp->correct ? "<p class=\"verdict pass\">✓ right" : "<p class=\"verdict fail\">✗ not right";
  if (graded.value("verdict", "") == "timeout") verdict += ": the item's time ran out before the answer came";
  else if (std::string message = r.value("message", ""); !message.empty() && !keyed) verdict += ": " + escape(message);
  verdict += "</p>";
  std::string tests;
  for (const auto& t : r.value("tests", nlohmann::json::array())) {
    if (t.value("status", "") == "pass") continue;
    std::string out = t.value("output", "");
    if (keyed) {
      if (!out.empty()) tests += "<li>Your answer<pre class=\"code\">" + escape(out) + "</pre></li>";
      continue;
    }
    tests += "<li><strong>" + escape(t.value("name", "")) + "</strong>: " + escape(t.value("status", "")) + " " +
             escape(t.value("message", ""));
    if (!out.empty()) tests += "<pre class=\"code\">" + escape(out) + "</pre>";
    tests += "</li>";
  }
  for (const RuleFiring& fr : rec.firings)
    if (fr.seq == resp->seq) tests += "<li class=\"muted\">adaptive rule " + escape(fr.rule) + " fired</li>";
  send_page(v.w, http::status_ok, "Result",
            "<h1>Item " + std::to_string(resp->seq) + "</h1><div class=\"card\">" + verdict +
                (tests.empty() ? "" : "<ul class=\"tests\">" + tests + "</ul>") +
                "</div><p><a class=\"button\" href=\"/c/\">Next</a></p>",
            Nav::candidate);
}

}  // namespace

void add_candidate_pages(App::Impl& app) {
  app.route("GET /c/{token}", Access::open, [&app](Visit& v) { start_page(app, v); });
  app.route("POST /c/{token}", Access::open, [&app](Visit& v) { redeem(app, v); });
  app.route("GET /c/{$}", Access::candidate, [&app](Visit& v) { current_page(app, v); });
  app.route("POST /c/answer", Access::candidate, [&app](Visit& v) { submit(app, v); });
  app.route("GET /c/result/{seq}", Access::candidate, [&app](Visit& v) { result_page(app, v); });
}

}  // namespace assess::web

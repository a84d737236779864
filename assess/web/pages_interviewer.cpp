// The interviewer's pages: the list of assessments, creating one (which shows its candidate link
// once), re-issuing a link, and watching one live (Server-Sent Events from the hub).
#include <random>

#include <gocxx/time.hpp>

#include "engine/store_input.hpp"
#include "web/app_impl.hpp"

namespace assess::web {

namespace {

using namespace std::chrono_literals;

std::vector<std::string> bank_dimensions(const Bank& bank) {
  std::vector<std::string> out;
  for (const char* d : kDimensions)
    if (!bank.in_dimension(d).empty()) out.push_back(d);
  return out;
}

// A new one-time link to the session: only its hash is stored, so this page is the one place
// the link is ever shown.
void issue_link(App::Impl& app, Visit& v, SessionId id, std::chrono::hours valid) {
  std::string token = random_token();
  Invite inv = app.db([&](Store& st) { return st.create_invite(id, sha256_hex(token), app.now() + valid); });
  std::string url = "http://" + v.r.host + "/c/" + token;
  send_page(v.w, http::status_ok, "Candidate link",
            "<h1>Candidate link for assessment " + std::to_string(id) + "</h1><div class=\"card\">"
            "<p>Send this link to the candidate. It works once, until " + escape(utc_date(inv.expires_at)) +
            " UTC, and is shown only now (issue a new one from the list if it is lost).</p>"
            "<p><input class=\"link-box\" readonly value=\"" + escape(url) + "\" data-select></p>"
            "<p><a href=\"/i/assessments/" + std::to_string(id) + "\">Watch this assessment</a></p></div>",
            Nav::interviewer, v.who.csrf);
}

void list_page(App::Impl& app, Visit& v) {
  std::vector<SessionSummary> all = app.db([](Store& st) { return st.list_sessions({}); });
  std::string rows;
  for (const SessionSummary& s : all) {
    std::string id = std::to_string(s.session.id);
    rows += "<tr><td>" + id + "</td><td>" + escape(s.candidate.handle) + "<br><span class=\"muted\">" +
            escape(s.candidate.name) + "</span></td><td>" + escape(join(s.session.config.dimensions)) + "</td><td>" +
            to_string(s.session.state) + "</td><td>" + std::to_string(s.responses) + " answered, " +
            std::to_string(s.correct) + " right</td><td>" + escape(utc_date(s.session.created_at)) +
            "</td><td class=\"actions\"><a href=\"/i/assessments/" + id + "\">watch</a> <a href=\"/i/assessments/" +
            id + "/report\">report</a>";
    if (s.session.state == SessionState::active) {
      rows += "<form method=\"post\" action=\"/i/assessments/" + id + "/link\" class=\"inline\">" +
              csrf_field(v.who.csrf) + "<button type=\"submit\" class=\"link\">new link</button></form>";
    }
    rows += "</td></tr>";
  }
  send_page(v.w, http::status_ok, "Assessments",
            "<h1>Assessments</h1><p><a class=\"button\" href=\"/i/new\">New assessment</a></p>"
            "<div class=\"table-wrap\"><table><thead><tr><th>#</th><th>Candidate</th><th>Dimensions</th>"
            "<th>State</th><th>Progress</th><th>Created (UTC)</th><th></th></tr></thead><tbody>" +
                (rows.empty() ? "<tr><td colspan=\"7\">none yet</td></tr>" : rows) + "</tbody></table></div>",
            Nav::interviewer, v.who.csrf);
}

void new_page(App::Impl& app, Visit& v) {
  std::string dims;
  for (const std::string& d : bank_dimensions(app.ctx.bank))
    dims += "<label class=\"check\"><input type=\"checkbox\" name=\"dimension\" value=\"" + escape(d) + "\" checked> " +
            escape(d) + "</label>";
  send_page(v.w, http::status_ok, "New assessment",
            "<h1>New assessment</h1><form method=\"post\" action=\"/i/assessments\" class=\"card form\">" +
                csrf_field(v.who.csrf) +
                "<label>Candidate handle <input name=\"handle\" required maxlength=\"128\"></label>"
                "<label>Display name <input name=\"name\" maxlength=\"256\"></label>"
                "<fieldset><legend>Dimensions</legend>" + dims + "</fieldset>"
                "<label class=\"check\"><input type=\"checkbox\" name=\"pressure\"> Pressure mode (drills under faults)</label>"
                "<label>Time limit, minutes (0: none) <input name=\"time_limit_min\" value=\"0\" inputmode=\"numeric\"></label>"
                "<label>Max items per dimension <input name=\"max_items\" value=\"12\" inputmode=\"numeric\"></label>"
                "<label>Link valid for, hours <input name=\"expiry_hours\" value=\"72\" inputmode=\"numeric\"></label>"
                "<button type=\"submit\">Create</button></form>",
            Nav::interviewer, v.who.csrf);
}

void create(App::Impl& app, Visit& v) {
  Form f = v.form(kSmallForm, {"handle", "name", "dimension", "pressure", "time_limit_min", "max_items", "expiry_hours"});
  std::string handle = f.get("handle"), name = f.get_or("name", "");
  try {
    input::check_label("candidate handle", handle, kMaxIdBytes);
    input::check_text("candidate name", name, kMaxNameBytes);
  } catch (const std::invalid_argument& e) {
    throw FormError(http::status_bad_request, e.what());
  }
  const std::vector<std::string> known = bank_dimensions(app.ctx.bank);
  SessionConfig config{.dimensions = f.all("dimension"),
                       .pressure = f.flag("pressure"),
                       .max_items = static_cast<int>(f.integer("max_items", 1, 1000)),
                       .seed = std::random_device{}(),
                       .time_limit = std::chrono::minutes(f.integer("time_limit_min", 0, 24 * 60))};
  if (config.dimensions.empty()) throw FormError(http::status_bad_request, "choose at least one dimension");
  for (std::size_t i = 0; i < config.dimensions.size(); ++i) {
    const std::string& d = config.dimensions[i];
    if (std::find(known.begin(), known.end(), d) == known.end())
      throw FormError(http::status_bad_request, "\"" + d + "\" is not a dimension of the bank");
    if (std::find(config.dimensions.begin(), config.dimensions.begin() + static_cast<long>(i), d) !=
        config.dimensions.begin() + static_cast<long>(i))
      throw FormError(http::status_bad_request, "dimension \"" + d + "\" given twice");
  }
  auto valid = std::chrono::hours(f.integer("expiry_hours", 1, 24 * 30));
  Candidate cand = app.db([&](Store& st) {
    std::optional<Candidate> c = st.find_candidate(handle);
    return c ? *c : st.create_candidate(handle, name);
  });
  Assessment a = Assessment::start(app.ctx, cand.id, config);
  SessionId id = a.id();
  app.live.adopt(std::move(a));
  issue_link(app, v, id, valid);
}

std::string panel(App::Impl& app, SessionId id) {
  nlohmann::json p = app.progress(id);
  std::string estimates;
  for (const auto& e : p["estimates"]) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "%.2f ± %.2f", e["theta"].get<double>(), e["se"].get<double>());
    estimates += "<li>" + escape(e["dimension"].get<std::string>()) + ": θ " + buf + "</li>";
  }
  std::string current = p.contains("current") ? "#" + std::to_string(p["current"]["seq"].get<int>()) + " " +
                                                    p["current"]["item"].get<std::string>()
                                              : "none";
  return "<section class=\"card\" id=\"live\" data-events=\"/i/assessments/" + std::to_string(id) +
         "/events\"><h2>Progress <span class=\"muted small\" data-field=\"status\">(live updates off)</span></h2><dl>"
         "<dt>State</dt><dd data-field=\"state\">" + escape(p["state"].get<std::string>()) + "</dd>"
         "<dt>Answered</dt><dd data-field=\"answered\">" + std::to_string(p["answered"].get<int>()) + "</dd>"
         "<dt>Right</dt><dd data-field=\"correct\">" + std::to_string(p["correct"].get<int>()) + "</dd>"
         "<dt>Current item</dt><dd data-field=\"current\">" + escape(current) + "</dd></dl>"
         "<ul data-field=\"estimates\">" + estimates + "</ul></section>";
}

void watch_page(App::Impl& app, Visit& v) {
  SessionRecord rec = load_record(app, v.r.path_value("id"));
  std::string id = std::to_string(rec.session.id);
  send_page(v.w, http::status_ok, "Assessment " + id,
            "<h1>Assessment " + id + " · " + escape(rec.candidate.handle) + "</h1><p class=\"muted\">" +
                escape(rec.candidate.name) + "</p>" + panel(app, rec.session.id) + "<p><a href=\"/i/assessments/" + id +
                "/report\">Report</a> · <a href=\"/i/assessments/" + id + "/report.json\">report.json</a></p>",
            Nav::interviewer, v.who.csrf);
}

// Server-Sent Events: the progress now, then one event per change, until the client leaves or
// the server shuts down (the hub closes the subscription).
void events(App::Impl& app, Visit& v) {
  SessionId id = load_record(app, v.r.path_value("id")).session.id;
  std::unique_ptr<Hub::Subscription> sub = app.hub.subscribe(id);  // before the state is read
  v.w.header().set("Content-Type", "text/event-stream");
  std::string chunk = "retry: 5000\nevent: progress\ndata: " + app.progress(id).dump() + "\n\n";
  for (;;) {
    if (!chunk.empty()) {
      if (v.w.write(chunk).err) return;
      v.w.flush();
    }
    bool done = false;
    gocxx::select(gocxx::recv_case(sub->events,
                                   [&](std::optional<std::string> ev) {
                                     if (ev) chunk = "event: progress\ndata: " + *ev + "\n\n";
                                     else done = true;
                                   }),
                  gocxx::recv_case(v.r.context().done(), [&] { done = true; }),
                  gocxx::recv_case(gocxx::time::after(15s), [&] { chunk = ": keep-alive\n\n"; }));
    if (done) return;
  }
}

}  // namespace

std::string utc_date(Time t) {
  std::time_t s = std::chrono::system_clock::to_time_t(std::chrono::time_point_cast<std::chrono::seconds>(t));
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm);
  return buf;
}

std::string join(const std::vector<std::string>& v, std::string_view sep) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : std::string(sep)) + s;
  return out;
}

void add_interviewer_pages(App::Impl& app) {
  app.route("GET /i/{$}", Access::interviewer, [&app](Visit& v) { list_page(app, v); });
  app.route("GET /i/new", Access::interviewer, [&app](Visit& v) { new_page(app, v); });
  app.route("POST /i/assessments", Access::interviewer, [&app](Visit& v) { create(app, v); });
  app.route("POST /i/assessments/{id}/link", Access::interviewer, [&app](Visit& v) {
    Form f = v.form(kSmallForm, {});
    (void)f;
    SessionRecord rec = load_record(app, v.r.path_value("id"));
    if (rec.session.state != SessionState::active)
      throw FormError(kConflict, "assessment " + std::to_string(rec.session.id) + " is " +
                                                 to_string(rec.session.state) + ": it takes no new link");
    issue_link(app, v, rec.session.id, std::chrono::hours(72));
  });
  app.route("GET /i/assessments/{id}", Access::interviewer, [&app](Visit& v) { watch_page(app, v); });
  app.route("GET /i/assessments/{id}/events", Access::interviewer, [&app](Visit& v) { events(app, v); });
}

}  // namespace assess::web

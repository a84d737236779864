// The interviewer's production checklist pages: the runs `assess checklist --db` saved (newest
// first), one run's items with their status and evidence, and its report as a JSON download.
// The report comes from a service's answers and logs: everything in it is escaped.
#include <limits>

#include "web/app_impl.hpp"

namespace assess::web {

namespace {

constexpr std::size_t kListed = 200;

// A report's items, whatever a newer or older checker wrote: missing fields read as empty.
nlohmann::json items_of(const ChecklistRun& run) {
  nlohmann::json r = nlohmann::json::parse(run.report_json, nullptr, false);
  nlohmann::json items = r.is_object() ? r.value("items", nlohmann::json::array()) : nlohmann::json::array();
  return items.is_array() ? items : nlohmann::json::array();
}

std::string text(const nlohmann::json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

// "3 pass, 1 fail, 1 not applicable"
std::string summary(const nlohmann::json& items) {
  int pass = 0, fail = 0, na = 0;
  for (const auto& i : items) {
    std::string s = text(i, "status");
    (s == "pass" ? pass : s == "fail" ? fail : na)++;
  }
  return std::to_string(pass) + " pass, " + std::to_string(fail) + " fail, " + std::to_string(na) + " not applicable";
}

// The status as a class the stylesheet colours: pass, fail, or undecided (not applicable).
std::string status_cell(const std::string& status) {
  std::string cls = status == "pass" || status == "fail" ? status : "undecided";
  return "<td class=\"verdict " + cls + "\">" + escape(status.empty() ? "?" : status) + "</td>";
}

ChecklistRun load_run(App::Impl& app, const std::string& id) {
  std::optional<long long> n = parse_integer(id, 1, std::numeric_limits<ChecklistRunId>::max());
  std::optional<ChecklistRun> run;
  if (n) run = app.db([&](Store& st) { return st.find_checklist_run(*n); });
  if (!run) throw FormError(http::status_not_found, "no checklist run \"" + id + "\"");
  return *run;
}

void list_page(App::Impl& app, Visit& v) {
  std::vector<ChecklistRun> runs = app.db([](Store& st) { return st.list_checklist_runs(kListed); });
  std::string rows;
  for (const ChecklistRun& run : runs) {
    std::string id = std::to_string(run.id);
    rows += "<tr><td>" + id + "</td><td>" + escape(run.target) + "</td><td>" + escape(run.lang) + "</td><td>" +
            utc_date(run.checked_at) + "</td><td>" + summary(items_of(run)) +
            "</td><td class=\"actions\"><a href=\"/i/checklists/" + id + "\">show</a> <a href=\"/i/checklists/" + id +
            "/report.json\">JSON</a></td></tr>";
  }
  send_page(v.w, http::status_ok, "Checklists",
            "<h1>Production checklist runs</h1><p class=\"muted\">Saved by <code>assess checklist --target URL "
            "--source DIR --db FILE</code> with this server's database; the newest " +
                std::to_string(kListed) +
                ".</p><div class=\"table-wrap\"><table><thead><tr><th>#</th><th>Target</th><th>Language</th>"
                "<th>Checked (UTC)</th><th>Result</th><th></th></tr></thead><tbody>" +
                (rows.empty() ? "<tr><td colspan=\"6\">none yet</td></tr>" : rows) + "</tbody></table></div>",
            Nav::interviewer, v.who.csrf);
}

void run_page(App::Impl& app, Visit& v) {
  ChecklistRun run = load_run(app, v.r.path_value("id"));
  nlohmann::json items = items_of(run);
  std::string id = std::to_string(run.id), rows;
  for (const auto& i : items) {
    std::string evidence;
    if (i.is_object() && i.contains("evidence") && i["evidence"].is_array())
      for (const auto& e : i["evidence"]) evidence += "<li>" + escape(e.is_string() ? e.get<std::string>() : e.dump()) + "</li>";
    rows += "<tr><td>" + escape(text(i, "title")) + "<br><span class=\"muted\">" + escape(text(i, "id")) + "</span></td>" +
            status_cell(text(i, "status")) + "<td>" + (evidence.empty() ? "—" : "<ul class=\"evidence\">" + evidence + "</ul>") +
            "</td></tr>";
  }
  send_page(v.w, http::status_ok, "Checklist " + id,
            "<h1>Production checklist · run " + id + "</h1><p class=\"muted\">" + escape(run.target) + " · " +
                escape(run.lang) + " · " + utc_date(run.checked_at) + " UTC · " + summary(items) +
                " · <a href=\"/i/checklists/" + id + "/report.json\">report.json</a></p>"
                "<div class=\"table-wrap\"><table class=\"checklist\"><thead><tr><th>Item</th><th>Status</th>"
                "<th class=\"wide\">Evidence</th></tr></thead><tbody>" + rows + "</tbody></table></div>",
            Nav::interviewer, v.who.csrf);
}

}  // namespace

void add_checklist_pages(App::Impl& app) {
  app.route("GET /i/checklists", Access::interviewer, [&app](Visit& v) { list_page(app, v); });
  app.route("GET /i/checklists/{id}", Access::interviewer, [&app](Visit& v) { run_page(app, v); });
  app.route("GET /i/checklists/{id}/report.json", Access::interviewer, [&app](Visit& v) {
    ChecklistRun run = load_run(app, v.r.path_value("id"));
    v.w.header().set("Content-Type", "application/json");
    v.w.header().set("Content-Disposition", "attachment; filename=\"checklist-" + std::to_string(run.id) + ".json\"");
    (void)v.w.write(nlohmann::json::parse(run.report_json).dump(2) + "\n");
  });
}

}  // namespace assess::web

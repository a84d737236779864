// `assess serve` end to end: the real binary on a loopback port, driven over HTTP with gocxx's
// client as the interviewer's and the candidates' browsers drive it. A three-item bank (a choice
// item, an output item and the fix item 06-fetch-leak from items/), graded for real with the build
// tree's warm cache. The interviewer creates an assessment; the candidate uses the link, answers
// the choice item right, the output item wrong and the fix item right (its file sent with CRLF
// line ends, as browsers send a textarea); at the fix item a reload and then a server restart (a
// new process on the same database) come back to the same item; the interviewer's event stream
// reports the first answer. The report and report.json carry the seed's table; a second candidate
// answers everything wrong, and the comparison shows both. Nothing the candidates were sent holds
// an item's key, a marker of the right choice, the reference or a known-wrong solution, a hidden
// test's source or an item's defect tag.
//
// Nothing here is timed: the event stream's client has a hang guard that only turns a hung server
// into a failure.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gocxx/context.hpp>
#include <gocxx/http.hpp>
#include <gocxx/runtime.hpp>
#include <nlohmann/json.hpp>

#include "three_item_bank.hpp"
#include "web_client.hpp"

extern char** environ;

namespace fs = std::filesystem;
namespace http = gocxx::http;
using ::testing::HasSubstr;
using web_test::Browser;
using web_test::csrf_of;
using web_test::link_of;
using web_test::Reply;
using namespace std::chrono_literals;

namespace {

const std::string kChoiceTitle = "A send nobody receives";      // 02-unbuffered-deadlock: "deadlock"
const std::string kOutputTitle = "Results gathered in order";   // 03-worker-output: "0\n1\n4\n9"
const std::string kFixTitle = "The first answer wins, the others leak";  // 06-fetch-leak
const fs::path kFixDir = fs::path(ASSESS_TEST_ITEMS) / "concurrency" / "06-fetch-leak";

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string match(const std::string& text, const std::string& re) {
  std::smatch m;
  EXPECT_TRUE(std::regex_search(text, m, std::regex(re))) << re << " in:\n" << text;
  return m.size() > 1 ? m[1].str() : "";
}

// `assess serve --listen 127.0.0.1:0` on the test's bank and database; what it prints gives its
// address and, on the first start, the interviewer's token. stop() sends SIGTERM (as an operator
// would) and returns the exit status.
class ServeProcess {
 public:
  explicit ServeProcess(const fs::path& dir) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");
    std::vector<std::string> argv = {ASSESS_BIN, "serve", "--listen", "127.0.0.1:0", "--db", dir / "assess.db",
                                     "--bank", dir / "bank", "--cache", ASSESS_TEST_CACHE};
    std::vector<char*> args;
    for (std::string& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    int err = ::posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    if (err != 0) {
      ::close(fds[0]);
      throw std::system_error(err, std::generic_category(), "posix_spawn " + argv[0]);
    }
    out_ = ::fdopen(fds[0], "r");
    // Kept open until the process ends: it prints again when it shuts down.
    gocxx::blocking([&] {
      char line[1024];
      while (base.empty() && std::fgets(line, sizeof line, out_)) {
        std::cmatch m;
        if (std::regex_search(line, m, std::regex(R"(/login\?token=([A-Za-z0-9_-]+))"))) token = m[1];
        if (std::regex_search(line, m, std::regex(R"(^serving on (http://\S+))"))) base = m[1];
      }
    });
    if (base.empty()) throw std::runtime_error("assess serve ended before it served (its stderr is in the test's log)");
  }
  ~ServeProcess() {
    if (pid_ > 0) stop();
    std::fclose(out_);
  }
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  int stop() {
    ::kill(pid_, SIGTERM);
    int status = 0;
    gocxx::blocking([&] { ::waitpid(pid_, &status, 0); });
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  std::string base;   // http://127.0.0.1:<port>
  std::string token;  // the interviewer's, printed at the first start only

 private:
  pid_t pid_ = -1;
  FILE* out_ = nullptr;
};

// The interviewer's live progress of one session (Server-Sent Events), read event by event.
class EventStream {
 public:
  EventStream(const Browser& interviewer, int session) {
    http::Request req = interviewer.request("GET", "/i/assessments/" + std::to_string(session) + "/events");
    auto [resp, err] = client_.send(req);
    EXPECT_FALSE(err) << err;
    EXPECT_EQ(resp.status_code, 200);
    EXPECT_EQ(resp.header.get("Content-Type"), "text/event-stream");
    body_ = std::move(resp.body);
  }
  // Closing a body before its end drops the connection (this one never ends).
  ~EventStream() { (void)body_.close(); }

  // The next progress event's data.
  nlohmann::json next() {
    for (;;) {
      if (std::size_t end = buf_.find("\n\n"); end != std::string::npos) {
        std::string event = buf_.substr(0, end);
        buf_.erase(0, end + 2);
        if (std::size_t data = event.find("data: "); data != std::string::npos)
          return nlohmann::json::parse(event.substr(data + 6));
        continue;  // a comment (keep-alive) or the retry line
      }
      char chunk[4096];
      auto [n, err] = body_.read(chunk);
      buf_.append(chunk, n);
      if (n == 0 && err) throw std::runtime_error("the event stream ended: " + err.message());
    }
  }

 private:
  http::Client client_{.timeout = 10min};  // the hang guard
  http::Body body_;
  std::string buf_;
};

class ServeFlow : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = make_three_item_bank("assess_web_flow");
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);  // kept for a look when something failed
    else std::cerr << "kept " << dir_ << "\n";
  }

  // Creates an assessment of the concurrency dimension; returns its one-time link.
  static std::string create(Browser& i, const std::string& handle) {
    std::string csrf = csrf_of(i.get("/i/new").body);
    Reply made = i.post("/i/assessments", "csrf=" + csrf + "&handle=" + handle +
                                              "&name=Flow+Tester&dimension=concurrency&time_limit_min=0&max_items=3&expiry_hours=1");
    EXPECT_EQ(made.status, 200) << made.body;
    return link_of(made.body);
  }

  // Answers the item on `page` (right when its title is in `right`), follows the redirect to
  // the result and checks its verdict; returns the item's title.
  static std::string answer(Browser& c, const std::string& page, const std::set<std::string>& right) {
    std::string title = match(page, "<h1>Item [0-9]+ · ([^<]+)</h1>");
    std::string seq = match(page, "name=\"seq\" value=\"([0-9]+)\"");
    bool ok = right.contains(title);
    std::string form = "csrf=" + csrf_of(page) + "&seq=" + seq;
    if (title == kChoiceTitle) {
      form += "&choice=" + match(page, std::string("value=\"([0-9])\" required> <code>") + (ok ? "deadlock" : "1") + "</code>");
    } else if (title == kOutputTitle) {
      form += "&text=" + http::query_escape(ok ? "0\n1\n4\n9\n" : "9\n4\n1\n0\n");
    } else if (title == kFixTitle) {
      std::string code = read_file(kFixDir / (ok ? "solution" : "start") / "fetch.go");
      // A browser sends a textarea's lines with CRLF.
      form += "&" + http::query_escape("file:fetch.go") + "=" + http::query_escape(std::regex_replace(code, std::regex("\n"), "\r\n"));
    } else {
      ADD_FAILURE() << "an item not in the test's bank: " << title;
      return title;
    }
    Reply sent = c.post("/c/answer", form);
    EXPECT_EQ(sent.status, 303) << title << ": " << sent.body;
    EXPECT_EQ(sent.header.get("Location"), "/c/result/" + seq) << title;
    Reply result = c.get("/c/result/" + seq);
    EXPECT_EQ(result.status, 200);
    EXPECT_THAT(result.body, HasSubstr(ok ? "✓ right" : "✗ not right")) << title << ":\n" << result.body;
    return title;
  }

  fs::path dir_;
};

// What only the server may know: scanned for in every body a candidate received.
std::vector<std::string> secrets() {
  std::vector<std::string> out = {
      "expected \"",  // the grader's message for a wrong prediction names the key
      "0\n1\n4\n9", "0\\n1\\n4\\n9", "\"correct\"", "\"key\"",
      "does not see that an unbuffered send blocks",  // defect tags (the report's key defects)
      "does not know wg.Wait waits for every worker", "leaves the losing senders blocked"};
  // Lines of the hidden tests, the reference and the known-wrong solutions that the candidate's
  // own files (start/) do not have.
  std::set<std::string> shown;
  for (const auto& f : fs::directory_iterator(kFixDir / "start")) {
    std::istringstream in(read_file(f.path()));
    for (std::string line; std::getline(in, line);) shown.insert(line);
  }
  for (const auto& f : fs::recursive_directory_iterator(kFixDir)) {
    std::string top = fs::relative(f.path(), kFixDir).begin()->string();
    if (!f.is_regular_file() || (top != "hidden" && top != "solution" && top != "wrong")) continue;
    std::istringstream in(read_file(f.path()));
    for (std::string line; std::getline(in, line);) {
      std::string t = std::regex_replace(line, std::regex("^\\s+|\\s+$"), "");
      if (t.size() >= 16 && !shown.contains(line)) out.push_back(t);
    }
  }
  return out;
}

TEST_F(ServeFlow, TwoCandidatesFromTheLinkToTheReportAndTheComparison) {
  gocxx::Options options;
  options.stack_size = 1u << 20;  // std::regex recurses per character
  gocxx::run([&] {
    auto server = std::make_unique<ServeProcess>(dir_);
    const std::string token = server->token;
    ASSERT_FALSE(token.empty()) << "the first start prints the interviewer's token";
    Browser i{.base = server->base};
    ASSERT_EQ(i.get("/login?token=" + token).status, 303);
    const std::string link1 = create(i, "flow");

    Browser c1{.base = server->base};
    EXPECT_EQ(c1.get(link1).status, 200);
    Reply started = c1.post(link1, "");
    ASSERT_EQ(started.status, 303);
    ASSERT_EQ(started.header.get("Location"), "/c/");

    std::vector<std::string> titles;
    bool restarted = false, streamed = false;
    for (;;) {
      Reply page = c1.get("/c/");
      ASSERT_EQ(page.status, 200) << page.body;
      if (page.body.find("The assessment is complete") != std::string::npos) break;
      std::string heading = match(page.body, "<h1>(Item [^<]+)</h1>");
      if (heading.ends_with(kFixTitle) && !restarted) {
        EXPECT_EQ(match(c1.get("/c/").body, "<h1>(Item [^<]+)</h1>"), heading) << "a reload shows the same item";
        ASSERT_EQ(server->stop(), 0) << "assess serve ends cleanly on SIGTERM";
        server = std::make_unique<ServeProcess>(dir_);
        EXPECT_TRUE(server->token.empty()) << "a restart keeps the interviewer's token";
        i = Browser{.base = server->base, .cookies = i.cookies, .received = {}};
        c1.base = server->base;
        c1.client = http::Client{};
        page = c1.get("/c/");
        EXPECT_EQ(match(page.body, "<h1>(Item [^<]+)</h1>"), heading) << "a restart comes back to the same item";
        EXPECT_EQ(i.get("/i/").status, 200) << "the interviewer's cookie outlives the restart";
        restarted = true;
      }
      std::unique_ptr<EventStream> watch;
      if (!streamed) {
        watch = std::make_unique<EventStream>(i, 1);
        EXPECT_EQ(watch->next()["answered"], titles.size());  // the progress now
      }
      titles.push_back(answer(c1, page.body, {kChoiceTitle, kFixTitle}));
      if (watch) {
        nlohmann::json ev;
        do ev = watch->next();
        while (ev["answered"] != titles.size());  // a page view publishes too
        EXPECT_EQ(ev["state"], "active");
        streamed = true;
      }
      ASSERT_LE(titles.size(), 3u) << "more items than the bank has";
    }
    EXPECT_THAT(titles, ::testing::UnorderedElementsAre(kChoiceTitle, kOutputTitle, kFixTitle));
    EXPECT_TRUE(restarted && streamed);

    // The report: the seed's table, with the one missed item's defect.
    Reply report = i.get("/i/assessments/1/report");
    ASSERT_EQ(report.status, 200);
    for (const char* text : {"<th>Dimension</th><th>Seed name</th><th>Pass line</th><th>Score</th><th>Verdict</th>"
                             "<th>θ ± SE</th><th class=\"wide\">Key defect</th>",
                             "<td>concurrency</td><td>并发控制力</td><td>≥ 4/5</td>",
                             "<td>does not know wg.Wait waits for every worker</td></tr>", "<svg"})
      EXPECT_THAT(report.body, HasSubstr(text));
    Reply json_reply = i.get("/i/assessments/1/report.json");
    ASSERT_EQ(json_reply.status, 200);
    nlohmann::json j = nlohmann::json::parse(json_reply.body);
    EXPECT_EQ(j["state"], "finished");
    ASSERT_EQ(j["dimensions"].size(), 1u) << j.dump(2);
    const nlohmann::json& d = j["dimensions"][0];
    EXPECT_EQ(d["dimension"], "concurrency");
    EXPECT_EQ(d["seed_name"], "并发控制力");
    EXPECT_EQ(d["items"], 3);
    EXPECT_EQ(d["correct"], 2);
    EXPECT_EQ(d["key_defects"], nlohmann::json::array({"does not know wg.Wait waits for every worker"}));
    std::map<std::string, std::string> verdicts;
    for (const nlohmann::json& step : j["path"]) verdicts[step["item"]] = step["verdict"];
    EXPECT_EQ(verdicts, (std::map<std::string, std::string>{
                            {"unbuffered-deadlock", "pass"}, {"worker-output", "answer"}, {"fetch-leak", "pass"}}));

    // A second candidate gets everything wrong (the fix item's start code leaks).
    Browser c2{.base = server->base};
    ASSERT_EQ(c2.post(create(i, "flow2"), "").status, 303);
    for (int n = 0; n < 3; ++n) answer(c2, c2.get("/c/").body, {});
    EXPECT_THAT(c2.get("/c/").body, HasSubstr("The assessment is complete"));

    Reply compare = i.get("/i/compare?s=1&s=2");
    ASSERT_EQ(compare.status, 200);
    EXPECT_THAT(compare.body, HasSubstr("<th class=\"wide\">#1 flow</th><th class=\"wide\">#2 flow2</th>"));
    EXPECT_THAT(compare.body, HasSubstr("<tr><td>concurrency</td><td>score "));
    EXPECT_THAT(compare.body, HasSubstr("does not know wg.Wait waits for every worker"));  // #1's key defect

    const std::vector<std::string> hidden = secrets();
    ASSERT_GT(hidden.size(), 12u) << "the scan has lines of the hidden tests and the solutions";
    for (const Browser* c : {&c1, &c2})
      for (const std::string& body : c->received)
        for (const std::string& s : hidden) EXPECT_EQ(body.find(s), std::string::npos) << "a candidate got \"" << s << "\" in:\n" << body;
    // Every choice is the same markup but for its value: nothing marks the right one.
    const std::regex radio("type=\"radio\""),
        plain("<label class=\"choice\"><input type=\"radio\" name=\"choice\" value=\"[0-9]\" required> <code>");
    auto count = [](const std::string& s, const std::regex& re) {
      return std::distance(std::sregex_iterator(s.begin(), s.end(), re), std::sregex_iterator());
    };
    for (const Browser* c : {&c1, &c2})
      for (const std::string& body : c->received) EXPECT_EQ(count(body, radio), count(body, plain)) << body;
    EXPECT_EQ(server->stop(), 0);
  }, options);
}

}  // namespace

// `assess take` end to end in a terminal: the real binary on a pseudo-terminal (forkpty), driven
// as a candidate drives it. A three-item bank (one choice item, one output item, one fix item
// from items/), so every item is seen whatever order the adaptive test picks: the choice item
// answered right after a rejected answer, the output item wrong, the fix item's file edited (the
// reference solution), then `q`; `assess take --resume 1` comes back to the same item with the
// edit kept, Enter submits it, the assessment ends with the table. Then `assess report 1` and
// `assess report 1 --json` are checked against what the session showed.
//
// Nothing here is timed: every wait is for text on the screen, with a hang guard that only
// turns a hung `assess` into a failure that shows the screen.
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "three_item_bank.hpp"

namespace fs = std::filesystem;
using ::testing::HasSubstr;

namespace {

// Long enough for a fix item graded with a cold GOCACHE on a loaded machine (the race-enabled
// standard library is built then); only a hung `assess` gets there.
constexpr std::chrono::minutes kHangGuard{10};

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A program on the master side of a pseudo-terminal: what it writes is the "screen".
class Terminal {
 public:
  Terminal(const std::vector<std::string>& argv, const fs::path& cwd) {
    struct winsize size = {.ws_row = 50, .ws_col = 120, .ws_xpixel = 0, .ws_ypixel = 0};
    pid_ = ::forkpty(&fd_, nullptr, nullptr, &size);
    if (pid_ < 0) throw std::runtime_error(std::string("forkpty: ") + std::strerror(errno));
    if (pid_ == 0) {
      std::vector<char*> args;
      for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      if (::chdir(cwd.c_str()) == 0) {
        ::setenv("TERM", "dumb", 1);
        ::unsetenv("EDITOR");
        ::execv(args[0], args.data());
      }
      std::perror(args[0]);
      ::_exit(127);
    }
  }
  ~Terminal() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (fd_ >= 0) ::close(fd_);
  }
  Terminal(const Terminal&) = delete;
  Terminal& operator=(const Terminal&) = delete;

  // Waits for the first of `texts` to appear after what earlier calls consumed; consumes up to
  // its end and returns its index. Fails the test (with the screen) at EOF or the hang guard.
  std::size_t expect_any(std::initializer_list<std::string_view> texts) {
    auto deadline = std::chrono::steady_clock::now() + kHangGuard;
    for (;;) {
      std::size_t best = std::string::npos, index = 0;
      for (std::size_t i = 0; i < texts.size(); ++i) {
        std::size_t at = screen_.find(texts.begin()[i], consumed_);
        if (at < best) best = at, index = i;
      }
      if (best != std::string::npos) {
        consumed_ = best + texts.begin()[index].size();
        return index;
      }
      if (!read_some(deadline)) {
        std::string wanted;
        for (std::string_view t : texts) wanted += "\"" + std::string(t) + "\" ";
        throw std::runtime_error("never saw " + wanted + (eof_ ? "(the program ended)" : "(hang guard)") +
                                 "; the screen after what was consumed:\n" + screen_.substr(consumed_));
      }
    }
  }
  void expect(std::string_view text) { expect_any({text}); }
  // The screen from where `expect` last stopped up to `text` (consumed too).
  std::string until(std::string_view text) {
    std::size_t from = consumed_;
    expect(text);
    return screen_.substr(from, consumed_ - from);
  }

  // A line typed and Enter pressed (the terminal turns the CR into a newline).
  void type(const std::string& line) {
    std::string keys = line + "\r";
    ASSERT_EQ(::write(fd_, keys.data(), keys.size()), static_cast<ssize_t>(keys.size()));
  }

  // Reads to the end of the program's output, then returns its exit status (-1: killed).
  int wait() {
    auto deadline = std::chrono::steady_clock::now() + kHangGuard;
    while (read_some(deadline)) {
    }
    if (!eof_) throw std::runtime_error("the program did not end (hang guard); its screen:\n" + screen_);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  const std::string& screen() const { return screen_; }

 private:
  // Appends what the program wrote, without the terminal's CRs; false at EOF or the deadline.
  bool read_some(std::chrono::steady_clock::time_point deadline) {
    while (!eof_ && std::chrono::steady_clock::now() < deadline) {
      struct pollfd p = {.fd = fd_, .events = POLLIN, .revents = 0};
      int n = ::poll(&p, 1, 1000);
      if (n < 0 && errno != EINTR) throw std::runtime_error(std::string("poll: ") + std::strerror(errno));
      if (n <= 0) continue;
      char buf[4096];
      ssize_t got = ::read(fd_, buf, sizeof buf);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) {  // EIO: every slave side is closed (the program and its children ended)
        eof_ = true;
        break;
      }
      for (ssize_t i = 0; i < got; ++i)
        if (buf[i] != '\r') screen_ += buf[i];
      return true;
    }
    return false;
  }

  pid_t pid_ = -1;
  int fd_ = -1;
  bool eof_ = false;
  std::string screen_;
  std::size_t consumed_ = 0;
};

// A command's standard output (stderr goes to the test's log), after `redirections`.
std::string output_of(const std::vector<std::string>& argv, int& status, const std::string& redirections = "") {
  std::string cmd;
  for (const std::string& a : argv) cmd += "'" + a + "' ";
  cmd += redirections;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) throw std::runtime_error("popen " + cmd);
  std::string out;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  int s = ::pclose(p);
  status = WIFEXITED(s) ? WEXITSTATUS(s) : -1;
  return out;
}

class TakeInATerminal : public ::testing::Test {
 protected:
  void SetUp() override {
    // None in a chroot without /dev/pts (tools/check-fresh-debian's): nothing to drive it with.
    int master = -1, slave = -1;
    if (::openpty(&master, &slave, nullptr, nullptr, nullptr) != 0)
      GTEST_SKIP() << "no pseudo-terminal here (" << std::strerror(errno) << "; is /dev/pts mounted?)";
    ::close(master);
    ::close(slave);
    dir_ = make_three_item_bank("assess_take");
  }
  void TearDown() override {
    if (dir_.empty()) return;  // skipped
    if (!HasFailure()) fs::remove_all(dir_);  // kept for a look when something failed
    else std::cerr << "kept " << dir_ << "\n";
  }

  // `assess <words...>` with this test's bank, database, work directory and the build's cache.
  std::vector<std::string> assess(std::vector<std::string> words) const {
    bool take = words.front() == "take";
    words.insert(words.begin(), ASSESS_BIN);
    words.insert(words.end(), {"--bank", dir_ / "bank", "--db", dir_ / "assess.db"});
    if (take) words.insert(words.end(), {"--cache", ASSESS_TEST_CACHE, "--work", dir_ / "work"});
    return words;
  }

  fs::path dir_;
};

TEST_F(TakeInATerminal, LeaveInTheMiddleResumeFinishThenTheReport) {
  const fs::path fix_dir = fs::path(ASSESS_TEST_ITEMS) / "concurrency" / "06-fetch-leak";
  const fs::path work_file = dir_ / "work" / "session-1" / "fetch-leak" / "fetch.go";
  auto term = std::make_unique<Terminal>(
      assess({"take", "--dimension", "concurrency", "--max-items", "3", "--seed", "1", "--candidate", "pty",
              "--name", "Pty Tester"}),
      dir_);
  term->expect("Assessment 1 for pty.");

  std::vector<std::string> shows;      // item titles, as they came on screen
  std::map<std::string, int> shown_as;  // item title -> the number it was shown with
  bool resumed = false;
  while (term->expect_any({"━━ Item ", "The assessment is complete."}) == 0) {
    int number = std::stoi(term->until(" · concurrency · "));
    term->expect(" ━━\n\n");
    std::string title = term->until("\n");
    title.pop_back();
    shows.push_back(title);
    if (title == "The first answer wins, the others leak") {
      term->expect("Edit these files, then press Enter to submit (e: open them in $EDITOR, q: leave):\n");
      term->expect(work_file.string() + "\n");
      if (!resumed) {
        // First visit: the file holds the start code; edit it, then leave.
        EXPECT_EQ(read_file(work_file), read_file(fix_dir / "start" / "fetch.go"));
        fs::copy_file(fix_dir / "solution" / "fetch.go", work_file, fs::copy_options::overwrite_existing);
        term->type("q");
        term->expect("Left assessment 1; resume it with: assess take --resume 1\n");
        ASSERT_EQ(term->wait(), 0) << term->screen();
        shown_as[title] = number;
        term = std::make_unique<Terminal>(assess({"take", "--resume", "1"}), dir_);
        term->expect("Resuming assessment 1.\n");
        resumed = true;
        continue;
      }
      EXPECT_EQ(number, shown_as[title]) << "the same item, with the same number";
      EXPECT_EQ(read_file(work_file), read_file(fix_dir / "solution" / "fetch.go")) << "the edit is kept";
      term->type("");  // Enter: submit
      term->expect("grading...");
      term->expect("\n✓ right");
    } else if (title == "A send nobody receives") {
      std::string choices = term->until("answer [1-4, q to leave]: ");
      std::smatch m;
      ASSERT_TRUE(std::regex_search(choices, m, std::regex(R"(\n  ([1-4])\) deadlock\n)"))) << choices;
      term->type("five");
      term->expect("please type a number from 1 to 4\n");
      term->expect("answer [1-4, q to leave]: ");
      term->type(m[1]);
      term->expect("grading...");
      term->expect("\n✓ right");
    } else if (title == "Results gathered in order") {
      term->expect("finish with a line holding only a dot (.):\n");
      for (const char* line : {"9", "4", "1", "0", "."}) term->type(line);  // the squares, reversed
      term->expect("grading...");
      term->expect("\n✗ not right: expected \"0\n1\n4\n9\"\n");
    } else {
      FAIL() << "an item not in the test's bank: " << title << "\n" << term->screen();
    }
    shown_as[title] = number;
  }
  std::string table = term->until("Item path:\n");
  ASSERT_EQ(term->wait(), 0) << term->screen();
  // Each item once, but the fix item twice: before leaving and after resuming.
  EXPECT_THAT(shows, ::testing::UnorderedElementsAre("A send nobody receives", "Results gathered in order",
                                                     "The first answer wins, the others leak",
                                                     "The first answer wins, the others leak"));
  ASSERT_EQ(shown_as.size(), 3u) << term->screen();
  std::vector<int> numbers;
  for (const auto& [title, n] : shown_as) numbers.push_back(n);
  EXPECT_THAT(numbers, ::testing::UnorderedElementsAre(1, 2, 3));

  // The report: the seed's table row, the item path, the key defect of the one missed item.
  int status = 0;
  std::string text = output_of(assess({"report", "1"}), status);
  ASSERT_EQ(status, 0) << text;
  EXPECT_THAT(text, HasSubstr("Assessment 1: pty (Pty Tester), finished, started "));
  std::smatch row;
  ASSERT_TRUE(std::regex_search(text, row, std::regex("\nconcurrency 并发控制力 +≥4/5 .*\n"))) << text;
  EXPECT_THAT(row.str(), HasSubstr(" 2/3 "));
  EXPECT_THAT(row.str(), HasSubstr("does not know wg.Wait waits for every worker"));
  EXPECT_THAT(table, HasSubstr(row.str())) << "the table `assess take` ended with";
  for (const char* item : {"unbuffered-deadlock", "worker-output", "fetch-leak"}) {
    std::smatch line;
    ASSERT_TRUE(std::regex_search(text, line, std::regex(std::string("\n  [1-3] +") + item + " .*\n"))) << text;
    EXPECT_THAT(line.str(), HasSubstr(item == std::string("worker-output") ? " wrong " : " right ")) << line.str();
  }

  nlohmann::json j = nlohmann::json::parse(output_of(assess({"report", "1", "--json"}), status));
  ASSERT_EQ(status, 0);
  EXPECT_EQ(j["session"], 1);
  EXPECT_EQ(j["candidate"], "pty");
  EXPECT_EQ(j["state"], "finished");
  ASSERT_EQ(j["dimensions"].size(), 1u) << j.dump(2);
  const nlohmann::json& d = j["dimensions"][0];
  EXPECT_EQ(d["dimension"], "concurrency");
  EXPECT_EQ(d["items"], 3);
  EXPECT_EQ(d["correct"], 2);
  EXPECT_EQ(d["key_defects"], nlohmann::json::array({"does not know wg.Wait waits for every worker"}));
  ASSERT_EQ(j["path"].size(), 3u) << j.dump(2);
  std::map<std::string, std::string> verdicts;
  for (const nlohmann::json& step : j["path"]) {
    EXPECT_EQ(step["answered"], true) << step.dump();
    EXPECT_EQ(step["seq"], shown_as[step["title"].get<std::string>()]) << step.dump();
    verdicts[step["item"]] = step["verdict"];
  }
  EXPECT_EQ(verdicts, (std::map<std::string, std::string>{
                          {"unbuffered-deadlock", "pass"}, {"worker-output", "answer"}, {"fetch-leak", "pass"}}));
}


// A rules.json that names an item the bank lacks stops take and bank check before anything
// runs, saying which rule (it used to panic in the middle of a session).
TEST_F(TakeInATerminal, RulesThatDoNotFitTheBankAreRefusedUpFront) {
  std::ofstream(dir_ / "bank" / "rules.json")
      << R"({"rules": [{"name": "stray", "why": "test", "when": {"missed": {"item": "no-such-item"}},
                        "then": {"insert": {"concept": "waitgroup"}}}]})";
  const std::vector<std::string> take = assess({"take", "--dimension", "concurrency"});
  const std::vector<std::string> check = {ASSESS_BIN, "bank", "check", "--item", "unbuffered-deadlock",
                                          "--bank", dir_ / "bank", "--cache", ASSESS_TEST_CACHE};
  for (const std::vector<std::string>& argv : {take, check}) {
    int status = -1;
    const std::string out = output_of(argv, status, "2>&1 </dev/null");
    EXPECT_EQ(status, 1) << argv[1] << ": " << out;
    EXPECT_THAT(out, ::testing::HasSubstr("rules.json does not fit the bank:\n  rule \"stray\": its condition "
                                          "names item \"no-such-item\", which no bank item has"))
        << argv[1];
    EXPECT_THAT(out, ::testing::Not(::testing::HasSubstr("panic"))) << argv[1];
  }
}

}  // namespace

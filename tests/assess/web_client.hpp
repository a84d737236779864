// The web application's tests' browser: gocxx's HTTP client with a cookie jar, and what a test
// reads off the pages (the CSRF token, the one-time link). Every body it receives is kept, so a
// test can scan all that a candidate was ever sent.
//
//   Browser b{.base = "http://127.0.0.1:4242"};
//   b.get("/login?token=" + token);                       // keeps the cookie
//   std::string csrf = csrf_of(b.get("/i/new").body);
//   Reply r = b.post("/i/assessments", "csrf=" + csrf + "&handle=ada&...");
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include <gocxx/http.hpp>

namespace web_test {

namespace http = gocxx::http;

struct Reply {
  int status = 0;
  http::Header header;
  std::string body;
};

struct Browser {
  std::string base;
  http::Client client = {};
  std::map<std::string, std::string> cookies = {};
  std::vector<std::string> received = {};  // every body, in order

  // The request with this browser's cookies, as send() sends it (for a streamed response).
  http::Request request(const std::string& method, const std::string& path, const std::string& body = "") const {
    auto [req, err] = http::new_request(method, base + path, body);
    EXPECT_FALSE(err) << err;
    std::string jar;
    for (const auto& [k, v] : cookies) jar += (jar.empty() ? "" : "; ") + k + "=" + v;
    if (!jar.empty()) req.header.set("Cookie", jar);
    return req;
  }

  Reply send(const std::string& method, const std::string& path, const std::string& body = "",
             const std::string& type = "application/x-www-form-urlencoded",
             const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    http::Request req = request(method, path, body);
    if (method == "POST" && !type.empty()) req.header.set("Content-Type", type);
    for (const auto& [k, v] : headers) req.header.set(k, v);
    auto [resp, err] = client.send(req);
    EXPECT_FALSE(err) << method << " " << path << ": " << err;
    Reply out{resp.status_code, resp.header, resp.body ? resp.body.read_all().value : ""};
    received.push_back(out.body);
    if (const auto* set = resp.header.values("Set-Cookie")) {
      for (const std::string& c : *set) {
        std::size_t eq = c.find('='), semi = c.find(';');
        std::string value = c.substr(eq + 1, semi - eq - 1);
        if (value.empty()) cookies.erase(c.substr(0, eq));
        else cookies[c.substr(0, eq)] = value;
      }
    }
    return out;
  }
  Reply get(const std::string& path) { return send("GET", path); }
  Reply post(const std::string& path, const std::string& body) { return send("POST", path, body); }
};

inline std::string csrf_of(const std::string& page) {
  std::smatch m;
  EXPECT_TRUE(std::regex_search(page, m, std::regex("name=\"csrf\" value=\"([^\"]+)\""))) << page;
  return m.size() > 1 ? m[1].str() : "";
}

// The one-time link on the page that shows it: /c/<token>.
inline std::string link_of(const std::string& page) {
  std::smatch m;
  EXPECT_TRUE(std::regex_search(page, m, std::regex("value=\"http://[^/]+(/c/[A-Za-z0-9_-]+)\""))) << page;
  return m.size() > 1 ? m[1].str() : "";
}

}  // namespace web_test

// The web application's credentials and abuse limits: random tokens (stored only hashed),
// cookies, CSRF and Origin checks, and token-bucket rate limits.
//
//   std::string token = web::random_token();          // 32 bytes from getrandom, base64url
//   store.set_interviewer_token(web::sha256_hex(token));
//   if (web::constant_time_equal(web::sha256_hex(given), *store.interviewer_token())) ...
//   w.header().add("Set-Cookie", web::set_cookie("assess_i", token, 12h));
//   web::RateLimiter grading({.burst = 3, .refill = 10s});
//   if (auto wait = grading.take(key, assess::now()); wait.count() > 0) reply_429(wait);
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include <gocxx/http.hpp>

#include "engine/store.hpp"

namespace assess::web {

// 32 random bytes (getrandom(2)), base64url without padding: 43 characters.
std::string random_token();
// SHA-256 of s, 64 lowercase hex digits (OpenSSL libcrypto).
std::string sha256_hex(std::string_view s);
// Equal contents, in time that depends only on the lengths (CRYPTO_memcmp).
bool constant_time_equal(std::string_view a, std::string_view b);

// A Set-Cookie value: HttpOnly, SameSite=Strict, Path=/, Max-Age. Empty value and zero max_age
// delete the cookie.
std::string set_cookie(std::string_view name, std::string_view value, std::chrono::seconds max_age);
// The request's cookie `name` (the first, when a browser sends several), if any.
std::optional<std::string> cookie(const gocxx::http::Request& r, std::string_view name);

// A POST from another site: its Origin header is present and is not this host's.
bool cross_origin(const gocxx::http::Request& r);

// The IP of a request's remote address ("127.0.0.1:5000" -> "127.0.0.1"): per-address limits
// must not count each connection (port) apart.
std::string remote_ip(const gocxx::http::Request& r);

// Token buckets by key: `burst` tokens at most, one more every `refill`. Safe to share.
class RateLimiter {
 public:
  struct Config {
    int burst = 3;
    std::chrono::milliseconds refill{10'000};
  };
  explicit RateLimiter(Config config) : config_(config) {}
  // Takes a token for `key` at time `at`: zero when there was one, else how long until there
  // is (the Retry-After, rounded up to whole seconds).
  std::chrono::seconds take(const std::string& key, Time at);

 private:
  struct Bucket {
    double tokens;
    Time last;
  };
  Config config_;
  std::mutex mu_;  // held for a few arithmetic operations only
  std::map<std::string, Bucket> buckets_;
};

}  // namespace assess::web

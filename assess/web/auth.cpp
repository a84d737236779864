#include "web/auth.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <sys/random.h>

#include <cerrno>
#include <cmath>
#include <system_error>

namespace assess::web {

std::string random_token() {
  unsigned char bytes[32];
  for (std::size_t got = 0; got < sizeof bytes;) {
    ssize_t n = ::getrandom(bytes + got, sizeof bytes - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::system_error(errno, std::generic_category(), "getrandom");
    got += static_cast<std::size_t>(n);
  }
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  unsigned bits = 0, acc = 0;
  for (unsigned char b : bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(acc >> bits) & 63];
    }
  }
  if (bits > 0) out += kAlphabet[(acc << (6 - bits)) & 63];
  return out;
}

std::string sha256_hex(std::string_view s) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : digest) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string set_cookie(std::string_view name, std::string_view value, std::chrono::seconds max_age) {
  return std::string(name) + "=" + std::string(value) + "; Path=/; Max-Age=" + std::to_string(max_age.count()) +
         "; HttpOnly; SameSite=Strict";
}

std::optional<std::string> cookie(const gocxx::http::Request& r, std::string_view name) {
  const std::vector<std::string>* lines = r.header.values("Cookie");
  if (!lines) return std::nullopt;
  for (const std::string& line : *lines) {
    std::string_view rest = line;
    while (!rest.empty()) {
      std::size_t semi = rest.find(';');
      std::string_view pair = rest.substr(0, semi);
      rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
      while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
      if (std::size_t eq = pair.find('='); eq != std::string_view::npos && pair.substr(0, eq) == name)
        return std::string(pair.substr(eq + 1));
    }
  }
  return std::nullopt;
}

bool cross_origin(const gocxx::http::Request& r) {
  const std::vector<std::string>* origin = r.header.values("Origin");
  if (!origin) return false;
  return origin->size() != 1 || ((*origin)[0] != "http://" + r.host && (*origin)[0] != "https://" + r.host);
}

std::string remote_ip(const gocxx::http::Request& r) {
  const std::string& a = r.remote_addr;
  std::size_t colon = a.rfind(':');
  std::string ip = colon == std::string::npos ? a : a.substr(0, colon);
  if (ip.size() >= 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
  return ip;
}

std::chrono::seconds RateLimiter::take(const std::string& key, Time at) {
  std::lock_guard lock(mu_);
  const double per_ms = 1.0 / static_cast<double>(config_.refill.count());
  // Full buckets carry no information: drop them so that many addresses cannot grow the map
  // without bound.
  if (buckets_.size() > 4096) {
    std::erase_if(buckets_, [&](const auto& kv) {
      return kv.second.tokens + static_cast<double>((at - kv.second.last).count()) * per_ms >= config_.burst;
    });
  }
  auto [it, fresh] = buckets_.try_emplace(key, Bucket{static_cast<double>(config_.burst), at});
  Bucket& b = it->second;
  if (!fresh && at > b.last) {
    b.tokens = std::min<double>(config_.burst, b.tokens + static_cast<double>((at - b.last).count()) * per_ms);
    b.last = at;
  }
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return std::chrono::seconds(0);
  }
  double wait_ms = (1 - b.tokens) / per_ms;
  return std::chrono::seconds(static_cast<long long>(std::ceil(wait_ms / 1000.0)));
}

}  // namespace assess::web

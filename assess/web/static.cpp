#include "web/static.hpp"

#include <map>
#include <stdexcept>

#include "web/auth.hpp"

namespace assess::web {

namespace {

std::string content_type(std::string_view name) {
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (name.ends_with(".svg")) return "image/svg+xml";
  throw std::logic_error("assess/web/static/" + std::string(name) + ": no content type for its extension");
}

const std::map<std::string, Asset, std::less<>>& assets() {
  static const auto* table = [] {
    auto* m = new std::map<std::string, Asset, std::less<>>;
    for (std::size_t i = 0; i < kEmbeddedCount; ++i) {
      const EmbeddedFile& f = kEmbedded[i];
      (*m)[std::string(f.name)] = Asset{.name = std::string(f.name),
                                        .type = content_type(f.name),
                                        .etag = "\"" + sha256_hex(f.content).substr(0, 16) + "\"",
                                        .content = f.content};
    }
    return m;
  }();
  return *table;
}

}  // namespace

const Asset* find_asset(std::string_view name) {
  auto it = assets().find(name);
  return it == assets().end() ? nullptr : &it->second;
}

std::string asset_url(std::string_view name) {
  const Asset* a = find_asset(name);
  if (!a) throw std::logic_error("no static file " + std::string(name));
  return "/static/" + a->name + "?v=" + a->etag.substr(1, 16);
}

}  // namespace assess::web

// The web application's static files (assess/web/static/: CSS and JS), embedded in the binary
// at build time (embed.cmake), served by /static/<name> with their content type and an ETag
// (the content's hash), and linked with ?v=<etag> so that a new build is never served stale.
//
//   if (const web::Asset* a = web::find_asset("app.css")) serve(a->type, a->content, a->etag);
//   std::string href = web::asset_url("app.css");   // "/static/app.css?v=3f0c..."
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace assess::web {

struct EmbeddedFile {
  std::string_view name;
  std::string_view content;
};
// The generated table (static_files.cpp).
extern const EmbeddedFile kEmbedded[];
extern const std::size_t kEmbeddedCount;

struct Asset {
  std::string name, type, etag;  // etag: "\"<16 hex digits of SHA-256>\""
  std::string_view content;
};

// nullptr when there is no such file. Throws std::logic_error for a file whose extension has
// no known content type (a build mistake, found at the first request).
const Asset* find_asset(std::string_view name);
// The URL pages link to: /static/<name>?v=<hash>.
std::string asset_url(std::string_view name);

}  // namespace assess::web

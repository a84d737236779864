// `assess serve`: the assessment web application (assess/web) on a gocxx::http server.
#pragma once

#include <filesystem>
#include <string>

namespace assess::cli {

struct ServeOptions {
  std::string listen = "127.0.0.1:8080";
  bool public_bind = false;  // --public: allow a non-loopback address
  bool new_token = false;    // --new-token: replace the interviewer's token
  std::filesystem::path db, bank, cache;
};

// Serves until SIGINT or SIGTERM, then shuts down gracefully (in-flight gradings finish).
// Throws std::invalid_argument for a bad --listen.
int serve(const ServeOptions& options);

}  // namespace assess::cli

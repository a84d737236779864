// A scratch directory for one test: made by mkdtemp under $TMPDIR (or /tmp) when constructed,
// removed with everything in it when destroyed.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

namespace gocxx::test {

class TempDir {
 public:
  enum class Keep { never, if_failed };  // if_failed: left for a look when the test failed

  explicit TempDir(std::string_view prefix = "gocxx-test", Keep keep = Keep::never) : keep_(keep) {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / (std::string(prefix) + ".XXXXXX")).string();
    if (!mkdtemp(tmpl.data())) {
      throw std::runtime_error("mkdtemp " + tmpl + ": " + std::strerror(errno));
    }
    path_ = tmpl;
  }
  ~TempDir() {
    if (keep_ == Keep::if_failed && ::testing::Test::HasFailure()) return;
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(std::string_view name) const { return path_ / name; }
  // The path of `name` inside, as a string (for addresses: unix sockets).
  std::string file(std::string_view name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
  Keep keep_;
};

}  // namespace gocxx::test

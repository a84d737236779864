// The bank the end-to-end tests (take_terminal_test, web_flow_test) run `assess` on: a choice
// item, an output item and a fix item from items/, so every item is seen whatever order the
// adaptive test picks, and no rules.
//
//   fs::path dir = make_three_item_bank("assess_take");  // dir/bank; the test removes dir
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

inline std::filesystem::path make_three_item_bank(const std::string& prefix) {
  namespace fs = std::filesystem;
  std::string tmpl = (fs::path(::testing::TempDir()) / (prefix + "_XXXXXX")).string();
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp " + tmpl);
  const fs::path dir = tmpl, items = ASSESS_TEST_ITEMS;
  fs::create_directories(dir / "bank" / "concurrency");
  for (const char* item : {"02-unbuffered-deadlock", "03-worker-output", "06-fetch-leak"})
    fs::copy(items / "concurrency" / item, dir / "bank" / "concurrency" / item, fs::copy_options::recursive);
  std::ofstream(dir / "bank" / "rules.json") << R"({"rules": []})";
  return dir;
}

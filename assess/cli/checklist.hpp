// `assess checklist` (checklist.cpp): main.cpp parses the options, this runs and reports.
#pragma once

#include <filesystem>
#include <optional>

#include "checklist/checklist.hpp"

namespace assess::cli {

struct ChecklistArgs {
  checklist::Options options;
  std::optional<std::filesystem::path> json;      // --json FILE
  std::optional<std::filesystem::path> markdown;  // --markdown FILE
  std::filesystem::path db;                       // --db FILE: the run is saved there
};

// Prints the text report, writes the files, saves the run in the database; returns the exit status (2: target unreachable).
int checklist(const ChecklistArgs& args);

}  // namespace assess::cli

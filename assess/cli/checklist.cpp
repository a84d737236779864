// `assess checklist`: runs the production checklist (assess/checklist) and writes its report:
// text on stdout, and --json / --markdown files for CI. Exit status: 0 every item passes or is
// not applicable, 1 an item fails, 2 the target does not answer (bad usage is main's 2).
#include "checklist.hpp"

#include <fstream>
#include <iostream>

namespace assess::cli {
namespace {

void write(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out.flush()) throw std::runtime_error("cannot write " + path.string());
}

}  // namespace

int checklist(const ChecklistArgs& a) {
  checklist::Report r;
  try {
    r = checklist::run_checklist(a.options);
  } catch (const checklist::Unreachable& e) {
    std::cerr << "assess checklist: " << e.what() << "\n";
    return 2;
  }
  std::cout << checklist::to_text(r);
  if (a.json) write(*a.json, checklist::to_json(r).dump(2) + "\n");
  if (a.markdown) write(*a.markdown, checklist::to_markdown(r));
  return r.exit_status();
}

}  // namespace assess::cli

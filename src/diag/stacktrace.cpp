// Symbolization with elfutils' libdwfl: ELF symbols for names, DWARF for lines and inlines.
#include "stacktrace.hpp"

#include <cxxabi.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <execinfo.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <mutex>

namespace gocxx::diag {

namespace {

std::string demangle(const char* name) {
  if (!name) return "?";
  int status = 0;
  char* out = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  if (status != 0 || !out) return name;
  std::string result(out);
  std::free(out);
  return result;
}

// "ns::f(int) const" -> "ns::f": Go prints the name, then "(...)" for the arguments.
std::string strip_parameters(std::string name) {
  std::size_t end = name.size();
  // Trailing qualifiers after the parameter list.
  for (const char* q : {" &&", " &", " const", " volatile", " noexcept"}) {
    std::size_t n = std::strlen(q);
    while (end >= n && name.compare(end - n, n, q) == 0) end -= n;
  }
  if (end == 0 || name[end - 1] != ')') return name;
  int depth = 0;
  for (std::size_t i = end; i-- > 0;) {
    if (name[i] == ')') ++depth;
    if (name[i] == '(' && --depth == 0) {
      // "operator()" keeps its own parentheses.
      return name.substr(0, i);
    }
  }
  return name;
}

// "unsigned long gocxx::go<F>" -> "gocxx::go<F>": template names demangle with a return type.
std::string strip_return_type(const std::string& name) {
  int depth = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (c == '<' || c == '(' || c == '{' || c == '[') ++depth;
    if (c == '>' || c == ')' || c == '}' || c == ']') --depth;
    if (c == ' ' && depth == 0) start = i + 1;
  }
  return name.substr(start);
}

std::string function_name(const char* mangled) {
  return strip_return_type(strip_parameters(demangle(mangled)));
}

class Symbolizer {
 public:
  std::vector<Frame> lookup(std::uintptr_t pc, bool return_address) {
    std::lock_guard lk(lock_);
    if (!dwfl_) open();
    std::uintptr_t lookup_pc = return_address ? pc - 1 : pc;
    Dwfl_Module* module = dwfl_ ? dwfl_addrmodule(dwfl_, lookup_pc) : nullptr;
    if (!module && dwfl_) {
      // A library loaded since we last looked: re-read the process map once.
      dwfl_end(dwfl_);
      open();
      module = dwfl_ ? dwfl_addrmodule(dwfl_, lookup_pc) : nullptr;
    }
    std::vector<Frame> frames;
    Frame outer;
    outer.pc = pc;
    if (!module) {
      outer.function = "?";
      frames.push_back(outer);
      return frames;
    }
    GElf_Off offset = 0;
    GElf_Sym sym;
    const char* sym_name =
        dwfl_module_addrinfo(module, lookup_pc, &offset, &sym, nullptr, nullptr, nullptr);
    outer.function = function_name(sym_name);
    outer.offset = offset + (return_address ? 1 : 0);

    // File and line of the PC itself (the innermost inlined body, if any).
    std::string file;
    int line = 0;
    if (Dwfl_Line* l = dwfl_module_getsrc(module, lookup_pc)) {
      int lineno = 0;
      if (const char* f = dwfl_lineinfo(l, nullptr, &lineno, nullptr, nullptr, nullptr)) file = f;
      line = lineno;
    }

    // Inlined calls: each DW_TAG_inlined_subroutine around the PC is a frame; its caller's
    // location is the scope's call_file:call_line. dwarf_getscopes gives the innermost scope;
    // dwarf_getscopes_die then walks the *concrete* nesting outwards from it.
    Dwarf_Addr bias = 0;
    Dwarf_Die* cu = dwfl_module_addrdie(module, lookup_pc, &bias);
    Dwarf_Die* innermost = nullptr;
    int n = cu ? dwarf_getscopes(cu, lookup_pc - bias, &innermost) : 0;
    Dwarf_Die* scopes = nullptr;
    int nscopes = n > 0 ? dwarf_getscopes_die(&innermost[0], &scopes) : 0;
    std::free(innermost);
    Dwarf_Files* files = nullptr;
    std::size_t nfiles = 0;
    if (cu) dwarf_getsrcfiles(cu, &files, &nfiles);
    for (int i = 0; i < nscopes; ++i) {
      int tag = dwarf_tag(&scopes[i]);
      if (tag == DW_TAG_subprogram) break;
      if (tag != DW_TAG_inlined_subroutine) continue;
      Frame f;
      f.pc = pc;
      f.function = qualified_name(&scopes[i]);
      f.file = file;
      f.line = line;
      frames.push_back(f);
      Dwarf_Attribute attr;
      Dwarf_Word call_file = 0, call_line = 0;
      if (dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_file, &attr), &call_file) == 0 &&
          files && call_file < nfiles) {
        const char* name = dwarf_filesrc(files, call_file, nullptr, nullptr);
        file = name ? name : "";
      }
      if (dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_line, &attr), &call_line) == 0) {
        line = static_cast<int>(call_line);
      }
    }
    std::free(scopes);
    outer.file = file;
    outer.line = line;
    frames.push_back(outer);
    return frames;
  }

 private:
  // The function an inlined scope stands for: its mangled name when DWARF has one, else its
  // DW_AT_name qualified by the namespaces, classes and functions that enclose its definition.
  static std::string qualified_name(Dwarf_Die* die) {
    Dwarf_Attribute attr;
    for (int at : {DW_AT_linkage_name, DW_AT_MIPS_linkage_name}) {
      if (const char* s = dwarf_formstring(dwarf_attr_integrate(die, at, &attr))) {
        return function_name(s);
      }
    }
    Dwarf_Die definition = *die;
    for (int at : {DW_AT_abstract_origin, DW_AT_specification}) {
      Dwarf_Die next;
      while (dwarf_formref_die(dwarf_attr(&definition, at, &attr), &next)) definition = next;
    }
    const char* base = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &attr));
    std::string name = base ? base : "?";
    Dwarf_Die* parents = nullptr;
    int n = dwarf_getscopes_die(&definition, &parents);
    for (int i = 1; i < n; ++i) {
      int tag = dwarf_tag(&parents[i]);
      if (tag != DW_TAG_namespace && tag != DW_TAG_class_type && tag != DW_TAG_structure_type &&
          tag != DW_TAG_union_type && tag != DW_TAG_subprogram) {
        continue;
      }
      const char* scope = dwarf_diename(&parents[i]);
      const char* unnamed = tag == DW_TAG_namespace ? "(anonymous namespace)" : "{lambda}";
      name = std::string(scope ? scope : unnamed) + "::" + name;
    }
    std::free(parents);
    return name;
  }

  void open() {
    static const Dwfl_Callbacks callbacks = {
        dwfl_linux_proc_find_elf, dwfl_standard_find_debuginfo, nullptr, nullptr};
    dwfl_ = dwfl_begin(&callbacks);
    if (!dwfl_) return;
    if (dwfl_linux_proc_report(dwfl_, getpid()) != 0 || dwfl_report_end(dwfl_, nullptr, nullptr) != 0) {
      dwfl_end(dwfl_);
      dwfl_ = nullptr;
    }
  }

  std::mutex lock_;
  Dwfl* dwfl_ = nullptr;
};

Symbolizer& symbolizer() {
  static Symbolizer* s = new Symbolizer;  // used while other threads may still run at exit
  return *s;
}

// Frames of the runtime and of the glue between go()/run() and the user's function, dropped
// from tracebacks as Go drops runtime.* frames.
bool is_runtime_frame(const std::string& function) {
  for (const char* prefix : {"gocxx::detail::", "gocxx::diag::", "boost::context", "make_fcontext",
                             "jump_fcontext", "std::__invoke", "std::invoke", "std::__apply",
                             "std::apply", "gocxx::go<", "gocxx::run<", "gocxx::blocking<",
                             "gocxx::panic<"}) {
    if (function.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

}  // namespace

std::vector<std::uintptr_t> capture_stack(int skip) {
  void* raw[128];
  int n = backtrace(raw, 128);
  std::vector<std::uintptr_t> pcs;
  for (int i = skip + 1; i < n; ++i) pcs.push_back(reinterpret_cast<std::uintptr_t>(raw[i]));
  return pcs;
}

std::vector<Frame> symbolize(std::uintptr_t pc, bool return_address) {
  return symbolizer().lookup(pc, return_address);
}

void write_traceback(std::FILE* out, const std::vector<std::uintptr_t>& pcs) {
  for (std::uintptr_t pc : pcs) {
    for (const Frame& f : symbolize(pc)) {
      if (is_runtime_frame(f.function)) continue;
      std::fprintf(out, "%s(...)\n\t%s:%d +0x%zx\n", f.function.c_str(),
                   f.file.empty() ? "?" : f.file.c_str(), f.line, static_cast<std::size_t>(f.offset));
    }
  }
}

void write_created_by(std::FILE* out, std::uintptr_t create_pc, std::uint64_t parent_id) {
  if (!create_pc) return;
  std::vector<Frame> frames = symbolize(create_pc);
  // The call to go() is inlined into its caller: the first frame that is not gocxx's own
  // (gocxx::go is inlined at the call site) is the function that called go().
  for (const Frame& f : frames) {
    if (is_runtime_frame(f.function)) continue;
    std::fprintf(out, "created by %s in goroutine %llu\n\t%s:%d +0x%zx\n", f.function.c_str(),
                 static_cast<unsigned long long>(parent_id), f.file.empty() ? "?" : f.file.c_str(),
                 f.line, static_cast<std::size_t>(f.offset));
    return;
  }
}

}  // namespace gocxx::diag

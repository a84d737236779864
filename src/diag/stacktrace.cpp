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
#include <unordered_map>

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

// "f(int) [clone .constprop.0]" -> "f(int)": the compiler's specialised copies keep their name.
std::string strip_clone_suffix(std::string name) {
  while (!name.empty() && name.back() == ']') {
    std::size_t at = name.rfind(" [clone ");
    if (at == std::string::npos) break;
    name.resize(at);
  }
  return name;
}

std::string function_name(const char* mangled) {
  return strip_return_type(strip_parameters(strip_clone_suffix(demangle(mangled))));
}

class Symbolizer {
 public:
  std::vector<Frame> lookup(std::uintptr_t pc, bool return_address) {
    std::lock_guard lk(lock_);
    if (!dwfl_) open();
    // Dumps ask for the same few PCs over and over; DWARF scope lookups are the slow part.
    std::uintptr_t key = pc * 2 + return_address;
    if (auto it = cache_.find(key); it != cache_.end()) return it->second;
    std::vector<Frame> frames = lookup_uncached(pc, return_address);
    cache_.emplace(key, frames);
    return frames;
  }

 private:
  std::vector<Frame> lookup_uncached(std::uintptr_t pc, bool return_address) {
    std::uintptr_t lookup_pc = return_address ? pc - 1 : pc;
    Dwfl_Module* module = dwfl_ ? dwfl_addrmodule(dwfl_, lookup_pc) : nullptr;
    if (!module && dwfl_) {
      // A library loaded since we last looked: re-read the process map once.
      dwfl_end(dwfl_);
      cache_.clear();
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

 public:
  // Unwinding a stack that is not running: libdw walks the CFI of the loaded modules and asks
  // the callbacks below for the initial registers and for stack memory.
  std::vector<std::uintptr_t> unwind(const SavedRegisters& regs, std::uintptr_t stack_lo,
                                     std::uintptr_t stack_hi, std::size_t max_frames) {
    std::lock_guard lk(lock_);
    if (!dwfl_) open();
    target_ = {&regs, stack_lo, stack_hi, max_frames, {}};
    if (dwfl_ && attached_) dwfl_getthread_frames(dwfl_, getpid(), collect_frame, &target_);
    return std::move(target_.pcs);
  }

 private:
  struct UnwindTarget {
    const SavedRegisters* regs;
    std::uintptr_t stack_lo, stack_hi;
    std::size_t max_frames;
    std::vector<std::uintptr_t> pcs;
  };

  static int collect_frame(Dwfl_Frame* frame, void* arg) {
    auto* t = static_cast<UnwindTarget*>(arg);
    Dwarf_Addr pc = 0;
    if (!dwfl_frame_pc(frame, &pc, nullptr) || pc == 0) return DWARF_CB_ABORT;
    t->pcs.push_back(pc);
    return t->pcs.size() < t->max_frames ? DWARF_CB_OK : DWARF_CB_ABORT;
  }

  // The one "thread" libdw sees is whichever saved stack unwind() is walking.
  static pid_t next_thread(Dwfl*, void*, void** thread_arg) {
    if (*thread_arg) return 0;
    *thread_arg = thread_arg;
    return getpid();
  }
  static bool get_thread(Dwfl*, pid_t, void*, void**) { return true; }

  // Reads only inside the unwound stack. A goroutine's stack stays mapped for the life of the
  // process, and an unwinder that follows a stale pointer elsewhere gets a clean failure here
  // instead of a fault. Uninstrumented: the words read may belong to frames the sanitizers
  // consider dead or (for an unwind that is about to be discarded) racing with their owner.
  [[gnu::no_sanitize_address, gnu::no_sanitize_thread]] static bool read_stack(
      Dwfl*, Dwarf_Addr addr, Dwarf_Word* result, void* arg) {
    auto* self = static_cast<Symbolizer*>(arg);
    const UnwindTarget& t = self->target_;
    if (addr < t.stack_lo || addr > t.stack_hi - sizeof(Dwarf_Word) || addr % sizeof(Dwarf_Word)) {
      return false;
    }
    *result = *reinterpret_cast<const volatile Dwarf_Word*>(addr);
    return true;
  }

  static bool set_initial_registers(Dwfl_Thread* thread, void* thread_arg);

  void open() {
    static const Dwfl_Callbacks callbacks = {
        dwfl_linux_proc_find_elf, dwfl_standard_find_debuginfo, nullptr, nullptr};
    static const Dwfl_Thread_Callbacks thread_callbacks = {
        next_thread, get_thread, read_stack, set_initial_registers, nullptr, nullptr};
    dwfl_ = dwfl_begin(&callbacks);
    attached_ = false;
    if (!dwfl_) return;
    if (dwfl_linux_proc_report(dwfl_, getpid()) != 0 || dwfl_report_end(dwfl_, nullptr, nullptr) != 0) {
      dwfl_end(dwfl_);
      dwfl_ = nullptr;
      return;
    }
    attached_ = dwfl_attach_state(dwfl_, nullptr, getpid(), &thread_callbacks, this);
  }

  std::mutex lock_;
  Dwfl* dwfl_ = nullptr;
  bool attached_ = false;
  std::unordered_map<std::uintptr_t, std::vector<Frame>> cache_;
  UnwindTarget target_{};
};

Symbolizer& symbolizer();

// DWARF register numbers of x86-64: rbx 3, rbp 6, rsp 7, r12-r15 12-15, rip 16.
bool Symbolizer::set_initial_registers(Dwfl_Thread* thread, void*) {
  const SavedRegisters& r = *symbolizer().target_.regs;
  const Dwarf_Word rbx = r.rbx;
  const Dwarf_Word rbp_rsp[2] = {r.rbp, r.rsp};
  const Dwarf_Word r12_rip[5] = {r.r12, r.r13, r.r14, r.r15, r.rip};
  return dwfl_thread_state_registers(thread, 3, 1, &rbx) &&
         dwfl_thread_state_registers(thread, 6, 2, rbp_rsp) &&
         dwfl_thread_state_registers(thread, 12, 5, r12_rip);
}

Symbolizer& symbolizer() {
  static Symbolizer* s = new Symbolizer;  // used while other threads may still run at exit
  return *s;
}

// Frames of the runtime and of the glue between go()/run() and the user's function, dropped
// from tracebacks as Go drops runtime.* frames: gocxx's internals by name, and everything
// inlined from the headers that are runtime glue (go()/run() thunks, channel operations and
// select, which Go's traceback hides as runtime.chansend/selectgo). Public calls that Go shows
// (sync.(*WaitGroup).Wait, time.Sleep) stay.
bool is_runtime_frame(const Frame& f) {
  for (const char* prefix : {"gocxx::detail::", "gocxx::diag::", "gocxx::debug::",
                             "gocxx::leakcheck::", "boost::context", "make_fcontext",
                             "jump_fcontext", "std::__invoke", "std::invoke", "std::__apply",
                             "std::apply", "gocxx::go<", "gocxx::run<", "gocxx::blocking<",
                             "gocxx::panic<", "gocxx::Chan<", "gocxx::select<"}) {
    if (f.function.rfind(prefix, 0) == 0) return true;
  }
  for (const char* header : {"/gocxx/runtime.hpp", "/gocxx/chan.hpp"}) {
    std::size_t n = std::strlen(header);
    if (f.file.size() >= n && f.file.compare(f.file.size() - n, n, header) == 0) return true;
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

std::vector<std::uintptr_t> unwind_saved(const SavedRegisters& regs, std::uintptr_t stack_lo,
                                        std::uintptr_t stack_hi, std::size_t max_frames) {
  return symbolizer().unwind(regs, stack_lo, stack_hi, max_frames);
}

std::vector<Frame> symbolize(std::uintptr_t pc, bool return_address) {
  return symbolizer().lookup(pc, return_address);
}

std::vector<Frame> user_frames(const std::vector<std::uintptr_t>& pcs) {
  std::vector<Frame> frames;
  for (std::uintptr_t pc : pcs) {
    for (Frame& f : symbolize(pc)) {
      if (!is_runtime_frame(f)) frames.push_back(std::move(f));
    }
  }
  return frames;
}

Frame creator_frame(std::uintptr_t create_pc) {
  if (!create_pc) return {};
  // The call to go() is inlined into its caller: the first frame that is not gocxx's own
  // (gocxx::go is inlined at the call site) is the function that called go().
  for (Frame& f : symbolize(create_pc)) {
    if (!is_runtime_frame(f)) return std::move(f);
  }
  return {};
}

}  // namespace gocxx::diag

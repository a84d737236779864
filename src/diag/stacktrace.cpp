// Symbolization with elfutils' libdwfl: ELF symbols for names, DWARF for lines and inlines.
#include "stacktrace.hpp"

#include <cxxabi.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace gocxx::diag {

namespace {

// The scopes (subprogram, inlined calls, blocks) under `parent` that hold `pc`, appended to
// `chain` outermost first. dwarf_getscopes descends only into DIEs that cover the PC, but GCC
// may nest a function's body where none does: a lambda's operator() inside its closure type,
// inside the abstract instance of the enclosing function (seen at -O1). So this walks every DIE.
bool find_scopes(Dwarf_Die* parent, Dwarf_Addr pc, std::vector<Dwarf_Die>& chain) {
  Dwarf_Die child;
  if (dwarf_child(parent, &child) != 0) return false;
  do {
    int tag = dwarf_tag(&child);
    bool code = tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine ||
                tag == DW_TAG_lexical_block;
    if (code && dwarf_haspc(&child, pc) == 1) {
      chain.push_back(child);
      find_scopes(&chain.back(), pc, chain);
      return true;
    }
    if (dwarf_haschildren(&child) && find_scopes(&child, pc, chain)) return true;
  } while (dwarf_siblingof(&child, &child) == 0);
  return false;
}

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

bool is_runtime_frame(const Frame& f);

class Symbolizer {
 public:
  std::vector<Frame> lookup(std::uintptr_t pc, bool return_address) {
    std::lock_guard lk(lock_);
    return symbols(pc, return_address).frames;
  }

  // The frames of return addresses that tracebacks show, under one lock: a dump asks for them
  // stack after stack, so what is_runtime_frame() says of each frame is cached with it.
  std::vector<Frame> user_frames(const std::vector<std::uintptr_t>& pcs) {
    std::lock_guard lk(lock_);
    std::vector<Frame> frames;
    for (std::uintptr_t pc : pcs) {
      const Symbols& s = symbols(pc, true);
      for (std::size_t i = 0; i < s.frames.size(); ++i) {
        if (!s.runtime[i]) frames.push_back(s.frames[i]);
      }
    }
    return frames;
  }

 private:
  struct Symbols {
    std::vector<Frame> frames;
    std::vector<bool> runtime;  // by frame: is_runtime_frame()
  };

  // With lock_ held; the reference is good until the next call.
  const Symbols& symbols(std::uintptr_t pc, bool return_address) {
    if (!dwfl_) open();
    // Dumps ask for the same few PCs over and over; DWARF scope lookups are the slow part.
    std::uintptr_t key = pc * 2 + return_address;
    auto it = cache_.find(key);
    if (it == cache_.end()) {
      Symbols s;
      s.frames = lookup_uncached(pc, return_address);
      for (const Frame& f : s.frames) s.runtime.push_back(is_runtime_frame(f));
      it = cache_.emplace(key, std::move(s)).first;
    }
    return it->second;
  }

  std::vector<Frame> lookup_uncached(std::uintptr_t pc, bool return_address) {
    std::uintptr_t lookup_pc = return_address ? pc - 1 : pc;
    Dwfl_Module* module = dwfl_ ? dwfl_addrmodule(dwfl_, lookup_pc) : nullptr;
    if (!module && dwfl_) {
      // A library loaded since we last looked: re-read the process map once.
      dwfl_end(dwfl_);
      cache_.clear();
      rules_.clear();
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
    std::vector<Dwarf_Die> scopes;  // innermost first
    if (n > 0) {
      Dwarf_Die* nesting = nullptr;
      int count = dwarf_getscopes_die(&innermost[0], &nesting);
      scopes.assign(nesting, nesting + std::max(count, 0));
      std::free(nesting);
    } else if (cu && find_scopes(cu, lookup_pc - bias, scopes)) {
      std::reverse(scopes.begin(), scopes.end());
    }
    std::free(innermost);
    Dwarf_Files* files = nullptr;
    std::size_t nfiles = 0;
    if (cu) dwarf_getsrcfiles(cu, &files, &nfiles);
    for (std::size_t i = 0; i < scopes.size(); ++i) {
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
  // Unwinds a stack that is not running, from its saved registers. libdw decodes each
  // function's call-frame information (.eh_frame); the rule for a PC is reduced once to a
  // few offsets and cached, so a dump of 100k parked goroutines walks them by arithmetic.
  std::vector<std::uintptr_t> unwind(const SavedRegisters& saved, std::uintptr_t stack_lo,
                                     std::uintptr_t stack_hi, std::size_t max_frames) {
    std::lock_guard lk(lock_);
    if (!dwfl_) open();
    std::vector<std::uintptr_t> pcs;
    if (!dwfl_) return pcs;
    // DWARF register numbers (x86-64): rbx 3, rbp 6, rsp 7, r12-r15 12-15, rip 16.
    std::uintptr_t regs[kRegs] = {};
    regs[3] = saved.rbx;
    regs[6] = saved.rbp;
    regs[7] = saved.rsp;
    regs[12] = saved.r12;
    regs[13] = saved.r13;
    regs[14] = saved.r14;
    regs[15] = saved.r15;
    regs[16] = saved.rip;
    auto read = [stack_lo, stack_hi](std::uintptr_t addr, std::uintptr_t& out) {
      if (addr < stack_lo || addr > stack_hi - sizeof(std::uintptr_t) || addr % 8) return false;
      out = racy_word(reinterpret_cast<const void*>(addr));
      return true;
    };
    while (pcs.size() < max_frames && regs[16] != 0) {
      pcs.push_back(regs[16]);
      const FrameRule& rule = rule_for(regs[16] - 1);  // a return address: look up the call
      if (!rule.valid) break;
      std::uintptr_t cfa = regs[rule.cfa_reg] + rule.cfa_offset;
      std::uintptr_t next[kRegs];
      std::copy(std::begin(regs), std::end(regs), next);
      bool ok = true;
      for (int r : kUnwoundRegs) {
        if (rule.saved[r]) ok = ok && read(cfa + rule.offset[r], next[r]);
      }
      if (!ok || cfa <= regs[7]) break;  // a stack only unwinds towards its top
      next[7] = cfa;
      std::copy(std::begin(next), std::end(next), regs);
    }
    return pcs;
  }

 private:
  static constexpr int kRegs = 17;
  static constexpr int kUnwoundRegs[] = {3, 6, 12, 13, 14, 15, 16};

  // CFA = register + offset; each callee-saved register and the return address (16) are
  // either unchanged or saved at CFA + offset: what compilers emit for x86-64 code outside
  // PLT stubs and signal trampolines, where a goroutine never parks.
  struct FrameRule {
    bool valid = false;
    int cfa_reg = 7;
    std::int64_t cfa_offset = 0;
    bool saved[kRegs] = {};
    std::int64_t offset[kRegs] = {};
  };

  const FrameRule& rule_for(std::uintptr_t pc) {
    auto it = rules_.find(pc);
    if (it == rules_.end()) it = rules_.emplace(pc, decode_rule(pc)).first;
    return it->second;
  }

  FrameRule decode_rule(std::uintptr_t pc) {
    FrameRule rule;
    Dwfl_Module* module = dwfl_addrmodule(dwfl_, pc);
    Dwarf_Addr bias = 0;
    Dwarf_CFI* cfi = module ? dwfl_module_eh_cfi(module, &bias) : nullptr;
    if (!cfi && module) cfi = dwfl_module_dwarf_cfi(module, &bias);
    Dwarf_Frame* frame = nullptr;
    if (!cfi || dwarf_cfi_addrframe(cfi, pc - bias, &frame) != 0) return rule;
    Dwarf_Op* ops = nullptr;
    std::size_t nops = 0;
    // libdw presents "CFA = reg + offset" as the single operation DW_OP_bregx reg, offset.
    if (dwarf_frame_cfa(frame, &ops, &nops) != 0 || nops != 1 || ops[0].atom != DW_OP_bregx ||
        ops[0].number >= kRegs) {
      std::free(frame);
      return rule;
    }
    rule.cfa_reg = static_cast<int>(ops[0].number);
    rule.cfa_offset = static_cast<std::int64_t>(ops[0].number2);
    rule.valid = true;
    for (int r : kUnwoundRegs) {
      Dwarf_Op mem[3];
      if (dwarf_frame_register(frame, r, mem, &ops, &nops) != 0) {
        rule.valid = false;
        break;
      }
      if (nops == 0) {
        if (r == 16 && !ops) rule.valid = false;  // return address undefined: outermost frame
        continue;                                 // same value
      }
      // Saved at CFA + N: DW_OP_call_frame_cfa [DW_OP_consts N, DW_OP_plus | DW_OP_plus_uconst N].
      if (ops[0].atom != DW_OP_call_frame_cfa) {
        rule.valid = false;
        break;
      }
      std::int64_t offset = 0;
      if (nops == 3 && ops[1].atom == DW_OP_consts && ops[2].atom == DW_OP_plus) {
        offset = static_cast<std::int64_t>(ops[1].number);
      } else if (nops == 2 && ops[1].atom == DW_OP_plus_uconst) {
        offset = static_cast<std::int64_t>(ops[1].number);
      } else if (nops != 1) {
        rule.valid = false;
        break;
      }
      rule.saved[r] = true;
      rule.offset[r] = offset;
    }
    std::free(frame);
    return rule;
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
  std::unordered_map<std::uintptr_t, Symbols> cache_;
  std::unordered_map<std::uintptr_t, FrameRule> rules_;
};

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

std::vector<std::uintptr_t> unwind_saved(const SavedRegisters& regs, std::uintptr_t stack_lo,
                                        std::uintptr_t stack_hi, std::size_t max_frames) {
  return symbolizer().unwind(regs, stack_lo, stack_hi, max_frames);
}

std::vector<Frame> symbolize(std::uintptr_t pc, bool return_address) {
  return symbolizer().lookup(pc, return_address);
}

std::vector<Frame> user_frames(const std::vector<std::uintptr_t>& pcs) {
  return symbolizer().user_frames(pcs);
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

// The crash reporter (crash.cpp), installed as the runtime's crash hooks (runtime/hooks.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gocxx::detail {
struct G;
}

namespace gocxx::diag {

// "<kind>: <heading>" and the calling goroutine's traceback from `pcs` (from_throw: less the
// exception machinery's frames above the throw), the others as GOCXX_TRACEBACK asks; exit 2.
// No kind: the heading was written already.
[[noreturn]] void crash(const char* kind, const std::string& heading,
                        const std::vector<std::uintptr_t>& pcs, bool from_throw);
// `heading`, then every goroutine's traceback (as GOCXX_TRACEBACK allows); exit 2.
[[noreturn]] void crash_with_dump(const std::string& heading);
// The rest of a fault report whose first lines the signal handler wrote: g's traceback unwound
// from the signal's ucontext, as a panic's; exit 2.
[[noreturn]] void crash_after_fault(const detail::G* g, void* ucontext);

}  // namespace gocxx::diag

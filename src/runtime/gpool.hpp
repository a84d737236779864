// The dead-G pool (gpool.cpp): free Gs of every stack size, behind each P's own cache
// (P::free_gs, g_get/g_put in scheduler.cpp).
#pragma once

#include <cstddef>

namespace gocxx::detail {

struct G;

// Adds n dead Gs (all of one stack size) to the pool.
void pool_put(G* const* gs, int n);
// Moves up to `max` free Gs with the given stack size into `out`; returns how many.
int pool_take(std::size_t size, G** out, int max);
// A new G with a fresh stack of `stack_size` bytes, registered for diagnostics.
G* new_g(std::size_t stack_size);

}  // namespace gocxx::detail

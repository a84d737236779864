// The registry of every G ever created (Go's allgs). Gs are never freed, so a G pointer read
// from the registry stays valid forever; its fields are read under the G's scan bit.
#pragma once

#include "goroutine.hpp"

namespace gocxx::detail {

void registry_add(G* g);
// Calls fn(g, arg) for every G ever created, in creation order.
void registry_for_each(void (*fn)(G* g, void* arg), void* arg);

}  // namespace gocxx::detail

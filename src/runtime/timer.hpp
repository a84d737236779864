// The timer queue's view for the rest of the runtime (the API is gocxx/time.hpp).
#pragma once

#include <cstddef>

namespace gocxx::time::detail {

// Timers that will still fire: the heap's size as last published, read with no lock. A fired
// timer still counts until its work is queued (the size is published after each fire, not at
// the pop before it), so an after_func's goroutine exists before the count drops. Deadlock
// detection needs 0; tests count it to prove contexts release their timers.
std::size_t timers_pending();

}  // namespace gocxx::time::detail

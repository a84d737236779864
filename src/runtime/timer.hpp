// The timer queue's view for the rest of the runtime (the API is gocxx/time.hpp).
#pragma once

#include <cstddef>

namespace gocxx::time::detail {

// Timers that will still fire (those in the heap; a fired after_func has its goroutine before
// it leaves the heap). Deadlock detection needs 0; tests count it to prove contexts release
// their timers.
std::size_t timers_pending();

}  // namespace gocxx::time::detail

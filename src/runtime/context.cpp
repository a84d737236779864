#include "context.hpp"

#include <pthread.h>

namespace gocxx::detail {

void ExecContext::adopt_current_thread() {
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    void* addr = nullptr;
    std::size_t size = 0;
    pthread_attr_getstack(&attr, &addr, &size);
    stack_bottom = addr;
    stack_size = size;
    pthread_attr_destroy(&attr);
  }
#ifdef GOCXX_TSAN
  tsan_fiber = __tsan_get_current_fiber();
#endif
}

}  // namespace gocxx::detail

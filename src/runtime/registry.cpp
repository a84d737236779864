#include "registry.hpp"

#include <mutex>
#include <vector>

namespace gocxx::detail {

namespace {
struct Registry {
  std::mutex lock;
  std::vector<G*> all;
};
Registry& registry() {
  static Registry* r = new Registry;  // Gs outlive static destruction; so does their index
  return *r;
}
}  // namespace

void registry_add(G* g) {
  auto& r = registry();
  std::lock_guard lk(r.lock);
  r.all.push_back(g);
}

void registry_for_each(void (*fn)(G* g, void* arg), void* arg) {
  auto& r = registry();
  std::lock_guard lk(r.lock);
  for (G* g : r.all) fn(g, arg);
}

const char* status_string(std::uint32_t status) {
  switch (status & ~kScanBit) {
    case kIdle: return "idle";
    case kRunnable: return "runnable";
    case kRunning: return "running";
    case kSyscall: return "syscall";
    case kWaiting: return "waiting";
    case kDead: return "dead";
  }
  return "unknown";
}

const char* wait_reason_string(WaitReason reason) {
  switch (reason) {
    case WaitReason::kZero: return "";
    case WaitReason::kChanSend: return "chan send";
    case WaitReason::kChanReceive: return "chan receive";
    case WaitReason::kChanSendNilChan: return "chan send (nil chan)";
    case WaitReason::kChanReceiveNilChan: return "chan receive (nil chan)";
    case WaitReason::kSelect: return "select";
    case WaitReason::kSelectNoCases: return "select (no cases)";
    case WaitReason::kSleep: return "sleep";
    case WaitReason::kSyncMutexLock: return "sync.Mutex.Lock";
    case WaitReason::kSyncRWMutexRLock: return "sync.RWMutex.RLock";
    case WaitReason::kSyncRWMutexLock: return "sync.RWMutex.Lock";
    case WaitReason::kSyncWaitGroupWait: return "sync.WaitGroup.Wait";
    case WaitReason::kSyncCondWait: return "sync.Cond.Wait";
    case WaitReason::kSemacquire: return "semacquire";
    case WaitReason::kForever: return "forever";
    case WaitReason::kCount: break;
  }
  return "unknown";
}

}  // namespace gocxx::detail

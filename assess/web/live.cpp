#include "web/live.hpp"

namespace assess::web {

std::shared_ptr<Live::Entry> Live::get(SessionId id) {
  std::lock_guard lock(mu_);
  std::shared_ptr<Entry>& e = entries_[id];
  if (!e) e = std::make_shared<Entry>();
  return e;
}

Assessment& Live::ready(Entry& e, SessionId id) {
  if (!e.assessment) e.assessment.emplace(Assessment::resume(ctx_, id));
  return *e.assessment;
}

void Live::adopt(Assessment a) {
  std::shared_ptr<Entry> e = get(a.id());
  std::lock_guard lock(e->mu);
  e->assessment.emplace(std::move(a));
}

}  // namespace assess::web

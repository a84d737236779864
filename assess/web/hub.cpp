#include "web/hub.hpp"

#include <algorithm>

namespace assess::web {

Hub::Subscription::~Subscription() { hub_.unsubscribe(session_, events); }

std::unique_ptr<Hub::Subscription> Hub::subscribe(SessionId session) {
  gocxx::Chan<std::string> ch(8);
  std::lock_guard lock(mu_);
  if (closed_) ch.close();
  else subs_[session].push_back(ch);
  return std::make_unique<Subscription>(*this, session, ch);
}

void Hub::publish(SessionId session, const std::string& event) {
  std::lock_guard lock(mu_);
  auto it = subs_.find(session);
  if (it == subs_.end()) return;
  for (gocxx::Chan<std::string>& ch : it->second) gocxx::select(gocxx::send_case(ch, event), gocxx::default_case());
}

void Hub::close() {
  std::lock_guard lock(mu_);
  closed_ = true;
  for (auto& [session, chans] : subs_)
    for (gocxx::Chan<std::string>& ch : chans) ch.close();
  subs_.clear();
}

void Hub::unsubscribe(SessionId session, const gocxx::Chan<std::string>& events) {
  std::lock_guard lock(mu_);
  auto it = subs_.find(session);
  if (it == subs_.end()) return;
  std::erase(it->second, events);
  if (it->second.empty()) subs_.erase(it);
}

}  // namespace assess::web

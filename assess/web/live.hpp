// The live Assessment objects of the sessions in use, one per session, each with its own lock:
// a session's requests are serialized (a grading holds it), different sessions run in parallel.
// An entry not yet built (a server restart, the first request) is rebuilt from the store with
// Assessment::resume, so a reload or a restart continues where the candidate was.
//
//   std::shared_ptr<Live::Entry> e = live.get(id);
//   std::unique_lock lock(e->mu, std::try_to_lock);   // a grading in progress: 409
//   Assessment& a = live.ready(*e, id);               // resumed on first use
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include <gocxx/sync.hpp>

#include "engine/session.hpp"

namespace assess::web {

class Live {
 public:
  struct Entry {
    gocxx::sync::Mutex mu;  // a goroutine's lock: held across a grading, which parks
    std::optional<Assessment> assessment;
  };

  explicit Live(const Context& ctx) : ctx_(ctx) {}
  std::shared_ptr<Entry> get(SessionId id);
  // The entry's Assessment, resumed from the store if needed. Call with e.mu held.
  Assessment& ready(Entry& e, SessionId id);
  // A session that was just started: its Assessment is kept.
  void adopt(Assessment a);

 private:
  Context ctx_;
  std::mutex mu_;  // guards the map only, never held while waiting
  std::map<SessionId, std::shared_ptr<Entry>> entries_;
};

}  // namespace assess::web

// Live progress for the interviewer's watch page: the candidate's pages publish an event when an
// item is presented or an answer recorded; each open event stream (Server-Sent Events) is a
// subscription, a goroutine parked on its channel until an event or the client goes away.
//
//   auto sub = hub.subscribe(session);     // before reading the state it follows: none is missed
//   while (std::optional<std::string> ev = sub->events.recv()) send(*ev);   // closed: shutdown
//   hub.publish(session, progress_json);   // never blocks the publisher
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <gocxx/chan.hpp>

#include "engine/store.hpp"

namespace assess::web {

class Hub {
 public:
  class Subscription {
   public:
    Subscription(Hub& hub, SessionId session, gocxx::Chan<std::string> events)
        : events(std::move(events)), hub_(hub), session_(session) {}
    ~Subscription();
    Subscription(const Subscription&) = delete;
    Subscription& operator=(const Subscription&) = delete;
    gocxx::Chan<std::string> events;  // closed when the hub closes

   private:
    Hub& hub_;
    SessionId session_;
  };

  // Buffered: a slow reader misses events rather than stalling a candidate's request; every
  // event carries the whole progress, so the next one catches it up.
  std::unique_ptr<Subscription> subscribe(SessionId session);
  void publish(SessionId session, const std::string& event);
  // Ends every subscription (the server shuts down: streams must end for it to finish); later
  // subscriptions start closed.
  void close();

 private:
  void unsubscribe(SessionId session, const gocxx::Chan<std::string>& events);

  // A std::mutex: sends are non-blocking, so no goroutine ever parks holding it. Holding it over
  // the sends is what makes close() and publish() safe together (no send on a closed channel).
  std::mutex mu_;
  bool closed_ = false;
  std::map<SessionId, std::vector<gocxx::Chan<std::string>>> subs_;
};

}  // namespace assess::web

// The server's shared state (Go's Server's unexported fields): listeners, connections and their
// states, shutdown. Internal to gocxx::http (server.cpp).
#pragma once

#include <atomic>
#include <functional>
#include <unordered_set>
#include <vector>

#include "gocxx/http.hpp"
#include "gocxx/sync.hpp"

namespace gocxx::http::detail {

class Connection;

// Go's ConnState, as far as shutdown needs it.
enum class ConnState { kNew, kActive, kIdle };

class ServerState {
 public:
  ServerState();
  error serve(Server& config, net::Listener ln);
  error shutdown(const context::Context& ctx);
  error close();
  void set_keep_alives(bool on);
  void on_shutdown(std::function<void()> f);

  bool shutting_down() const;
  bool keep_alives() const;
  // Cancelled by close(), or when shutdown gives up waiting: every request's context derives
  // from it.
  const context::Context& base_context() const { return base_ctx_; }

 private:
  bool track_listener(const net::Listener& ln);
  void close_listeners();
  bool close_conns(bool idle_only);

  gocxx::sync::Mutex mu_;  // listeners_, conns_, on_shutdown_
  std::vector<net::Listener> listeners_;
  std::unordered_set<Connection*> conns_;  // each keeps its own ConnState
  std::vector<std::function<void()>> on_shutdown_;
  std::atomic<bool> shutting_down_{false};
  std::atomic<bool> keep_alives_{true};
  context::Context base_ctx_;
  context::CancelFunc cancel_base_;
};

}  // namespace gocxx::http::detail

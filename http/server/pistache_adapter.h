#pragma once
// The bridge between Pistache and RequestHandler: converts requests, runs
// writes (POST) on the WorkPool and everything else inline on the reactor
// thread, and puts every response on the wire in one place (Send), where
// the keep-alive fix for Pistache 0.0.5 lives.
//
// ServerState is shared by the handler clones (one per reactor thread) and
// the server; it counts requests in flight so Shutdown can wait for them.
#include <pistache/http.h>

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "http/server/pistache_channel.h"
#include "http/server/pistache_security.h"
#include "http/server/request_handler.h"
#include "http/server/work_pool.h"

namespace jobtrail::http {

struct ServerState {
  // What the routes point into (the API's context, the authenticator, the
  // metrics): owned here, declared first, so it outlives the handler.
  std::shared_ptr<void> routes_context;
  std::unique_ptr<RequestHandler> handler;
  std::unique_ptr<WorkPool> writes;  // null: writes run on the reactor threads
  // Open connections per client address (null: unlimited).
  std::shared_ptr<ConnectionLimiter> connections;
  // What each connection's parser refuses before reading it (bodies by
  // their declared size, header blocks past the gate's limits).
  ParserLimits parser_limits;

  std::mutex mu;
  std::condition_variable idle;
  int in_flight = 0;  // GUARDED_BY(mu); accepted and not yet answered

  // Connections that have sent a request and are still open.
  std::mutex peers_mu;
  std::unordered_map<const Pistache::Tcp::Peer*, std::weak_ptr<Pistache::Tcp::Peer>>
      peers;  // GUARDED_BY(peers_mu)
  // Answers that outlive their request (response_channel.h: long-polls,
  // event streams), by connection: told when the client goes away.
  std::unordered_map<const Pistache::Tcp::Peer*, std::weak_ptr<PistacheChannel>>
      channels;  // GUARDED_BY(peers_mu)
  // Run first on shutdown (ServerOptions::drains): deferred answers end.
  std::vector<std::function<void()>> drains;

  // Shuts down (both ways) every tracked connection: its clients see the
  // connection end instead of waiting on a server that stopped reading.
  // Pistache then closes the sockets on its reactor threads.
  void CloseConnections();

  // Blocks until no request is in flight, or `timeout` passed.
  template <typename Duration>
  void WaitIdle(Duration timeout) {
    std::unique_lock lock(mu);
    idle.wait_for(lock, timeout, [this] { return in_flight == 0; });
  }
};

std::shared_ptr<Pistache::Http::Handler> MakePistacheHandler(
    std::shared_ptr<ServerState> state);

}  // namespace jobtrail::http

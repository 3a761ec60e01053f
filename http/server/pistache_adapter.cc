#include "http/server/pistache_adapter.h"

#include <pistache/http_headers.h>
#include <pistache/peer.h>
#include <sys/socket.h>

#include <chrono>
#include <string>
#include <vector>

#include "http/server/error_mapping.h"
#include "http/server/query_params.h"

namespace jobtrail::http {
namespace {

namespace PHttp = Pistache::Http;
using Clock = std::chrono::steady_clock;

// A response header with any name (Pistache's typed headers cover few).
class NamedHeader final : public PHttp::Header::Header {
 public:
  NamedHeader(std::string name, std::string value)
      : name_(std::move(name)), value_(std::move(value)) {}
  const char* name() const override { return name_.c_str(); }
  void write(std::ostream& os) const override { os << value_; }
  uint64_t hash() const override { return std::hash<std::string>{}(name_); }

 private:
  std::string name_;
  std::string value_;
};

std::string_view MethodName(PHttp::Method m) {
  switch (m) {
    case PHttp::Method::Get: return "GET";
    case PHttp::Method::Post: return "POST";
    case PHttp::Method::Put: return "PUT";
    case PHttp::Method::Delete: return "DELETE";
    case PHttp::Method::Patch: return "PATCH";
    case PHttp::Method::Options: return "OPTIONS";
    case PHttp::Method::Head: return "HEAD";
    default: return "OTHER";
  }
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

class InFlight {
 public:
  explicit InFlight(ServerState& s) : state_(s) {
    std::lock_guard lock(state_.mu);
    ++state_.in_flight;
  }
  ~InFlight() {
    std::lock_guard lock(state_.mu);
    if (--state_.in_flight == 0) state_.idle.notify_all();
  }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;

 private:
  ServerState& state_;
};

// What Send needs to know about the connection.
struct Connection {
  bool http11 = false;
  bool client_asked_close = false;
  // The body or header block was refused unread: what follows on the
  // socket is its rest.
  bool body_left_unread = false;
  // The peer's parser: told when the answer is on its way (Send), and the
  // header block as received (FillRequestShape). Null only for a peer that
  // went away before onRequest.
  std::shared_ptr<GuardedRequestParser> parser;
  uint64_t answering = 0;  // parser->BeginAnswering()'s token for this request
};

// A request that outlives onRequest (Pistache resets its request as soon
// as onRequest returns): owns the body and the headers it points into.
struct OwnedRequest {
  HttpRequest request;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string header_block;  // as received, for list-valued fields
};

void FillCommon(const PHttp::Request& req, const Connection& conn, HttpRequest& r) {
  r.method = MethodName(req.method());
  r.path = req.resource();
  FillRequestShape(req, conn.parser.get(), r);
  if (conn.parser) r.unread_body_bytes = conn.parser->oversized_body();
  const auto& q = req.query();
  for (auto it = q.parameters_begin(); it != q.parameters_end(); ++it) {
    r.query.emplace_back(PercentDecode(it->first, true).value_or(it->first),
                         PercentDecode(it->second, true).value_or(it->second));
  }
}

// A view of `req`, valid during onRequest only.
HttpRequest View(const PHttp::Request& req, const Connection& conn) {
  HttpRequest r;
  FillCommon(req, conn, r);
  r.body = req.body();
  const PHttp::Header::Collection* headers = &req.headers();
  r.header = [headers](std::string_view name) -> std::optional<std::string> {
    return HeaderValue(*headers, name);
  };
  if (conn.parser) {
    const GuardedRequestParser* parser = conn.parser.get();
    r.header_lines = [parser](std::string_view name) {
      return FieldLines(parser->header_block(), name);
    };
  }
  return r;
}

std::shared_ptr<OwnedRequest> Own(const PHttp::Request& req, const Connection& conn) {
  auto owned = std::make_shared<OwnedRequest>();
  FillCommon(req, conn, owned->request);
  owned->body = req.body();
  CopyHeaders(req.headers(), owned->headers);
  owned->request.body = owned->body;
  const auto* headers = &owned->headers;
  owned->request.header = [headers](std::string_view name) -> std::optional<std::string> {
    for (const auto& [k, v] : *headers) {
      if (EqualsIgnoreCase(k, name)) return v;
    }
    return std::nullopt;
  };
  if (conn.parser) {
    owned->header_block = conn.parser->header_block();
    const auto* block = &owned->header_block;
    owned->request.header_lines = [block](std::string_view name) {
      return FieldLines(*block, name);
    };
  }
  return owned;
}

class PistacheHandler final : public PHttp::Handler {
 public:
  HTTP_PROTOTYPE(PistacheHandler)

  explicit PistacheHandler(std::shared_ptr<ServerState> state) : state_(std::move(state)) {}

  // Replaces Http::Handler's (private) one: the same request parser, plus
  // the per-address connection limit.
  void onConnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer) override {
    SetUpConnection(peer, state_->parser_limits, state_->connections.get());
  }

  void onDisconnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer) override {
    // Runs before Pistache closes the fd; holding peers_mu here keeps
    // CloseConnections from touching an fd number that is being reused.
    std::shared_ptr<PistacheChannel> channel;
    {
      std::lock_guard lock(state_->peers_mu);
      state_->peers.erase(peer.get());
      if (auto it = state_->channels.find(peer.get()); it != state_->channels.end()) {
        channel = it->second.lock();
        state_->channels.erase(it);
      }
    }
    // A deferred answer on this connection stops writing before the fd goes.
    if (channel) channel->PeerClosed();
  }

  void onRequest(const PHttp::Request& req, PHttp::ResponseWriter writer) override {
    const auto start = Clock::now();
    Connection conn;
    if (auto peer = writer.getPeer()) {
      {
        std::lock_guard lock(state_->peers_mu);
        state_->peers.try_emplace(peer.get(), peer);
      }
      conn.parser = GuardedParser(peer);
      // From here until Send, the header and body timeouts are over: the
      // request has arrived, and the handler may take as long as it needs.
      if (conn.parser) conn.answering = conn.parser->BeginAnswering();
    }
    conn.http11 = req.version() == PHttp::Version::Http11;
    auto asked = req.headers().tryGet<PHttp::Header::Connection>();
    conn.client_asked_close = asked && asked->control() == PHttp::ConnectionControl::Close;
    conn.body_left_unread = conn.parser && conn.parser->discarding();

    if (state_->handler->draining()) {
      HttpRequest request = View(req, conn);
      Reject(request, writer, conn, start, "SHUTTING_DOWN",
             "the server is shutting down; retry on another instance");
      return;
    }
    if (state_->writes != nullptr && req.method() == PHttp::Method::Post) {
      // Writes wait for fsync and the read models: off the reactor thread.
      auto owned = Own(req, conn);
      auto guard = std::make_shared<InFlight>(*state_);
      auto out = std::make_shared<PHttp::ResponseWriter>(std::move(writer));
      auto state = state_;
      const bool queued = state_->writes->Submit([state, owned, guard, out, conn, start] {
        Serve(state, owned->request, *out, conn, start, owned, nullptr);
      });
      if (!queued) {
        Reject(owned->request, *out, conn, start, "OVERLOADED",
               "too many writes are queued; retry shortly");
      }
      return;
    }
    InFlight guard(*state_);
    HttpRequest request = View(req, conn);
    Serve(state_, request, writer, conn, start, nullptr, &req);
  }

 private:
  // `owned` is the request when it already outlives onRequest (writes),
  // else `raw` is the Pistache request it is a view of.
  static void Serve(const std::shared_ptr<ServerState>& state, HttpRequest& request,
                    PHttp::ResponseWriter& writer, const Connection& conn, Clock::time_point start,
                    std::shared_ptr<OwnedRequest> owned, const PHttp::Request* raw) {
    size_t route_index = 0;
    HttpResponse response = state->handler->Handle(request, route_index);
    if (response.deferred) {
      Defer(state, request, writer, conn, start, route_index, std::move(response),
            owned ? std::move(owned) : Own(*raw, conn));
      return;
    }
    Send(*state, writer, conn, response);
    state->handler->Record(request, response, route_index,
                           std::chrono::duration<double>(Clock::now() - start).count());
  }

  // The route answers later (response_channel.h): the connection and an
  // owned copy of the request go to it; nothing is sent now, and no thread
  // waits for it.
  static void Defer(const std::shared_ptr<ServerState>& state, const HttpRequest& request,
                    PHttp::ResponseWriter& writer, const Connection& conn,
                    Clock::time_point start, size_t route_index, HttpResponse response,
                    std::shared_ptr<OwnedRequest> kept) {
    if (&kept->request != &request) {
      // What the request handler and the gate made of it.
      kept->request.request_id = request.request_id;
      kept->request.principal = request.principal;
      kept->request.params = request.params;
      kept->request.query = request.query;
      kept->request.client_address = request.client_address;
    }
    std::shared_ptr<const HttpRequest> kept_request(kept, &kept->request);
    auto out = std::make_shared<PHttp::ResponseWriter>(std::move(writer));
    std::shared_ptr<Pistache::Tcp::Peer> peer = out->getPeer();
    std::weak_ptr<ServerState> weak = state;
    ChannelSetup setup;
    setup.peer = peer;
    setup.http11 = conn.http11;
    setup.keep_alive = conn.http11 && !conn.client_asked_close;
    setup.parser = conn.parser;
    setup.answering = conn.answering;
    setup.headers = std::move(response.headers);
    setup.send = [weak, out, conn](const HttpResponse& r) {
      if (auto s = weak.lock()) return Send(*s, *out, conn, r);
      return Pistache::Async::Promise<ssize_t>::rejected(std::runtime_error("server gone"));
    };
    setup.record = [weak, kept_request, route_index, start](const HttpResponse& r) {
      if (auto s = weak.lock()) {
        s->handler->Record(*kept_request, r, route_index,
                           std::chrono::duration<double>(Clock::now() - start).count());
      }
    };
    const Pistache::Tcp::Peer* key = peer.get();
    setup.on_done = [weak, key](const PistacheChannel* done) {
      auto s = weak.lock();
      if (!s) return;
      std::lock_guard lock(s->peers_mu);
      auto it = s->channels.find(key);
      if (it == s->channels.end()) return;
      auto current = it->second.lock();
      if (!current || current.get() == done) s->channels.erase(it);
    };
    auto channel = std::make_shared<PistacheChannel>(std::move(setup));
    bool connected = false;
    if (peer) {
      // Registered only while onDisconnection has not run for the peer
      // (it erases `peers` under the same lock), so it will be told.
      std::lock_guard lock(state->peers_mu);
      connected = state->peers.count(key) > 0;
      if (connected) state->channels[key] = channel;
    }
    response.deferred->Start(std::move(kept_request), channel);
    if (!connected) channel->PeerClosed();  // the client left before the route answered
  }

  void Reject(HttpRequest& request, PHttp::ResponseWriter& writer, const Connection& conn,
              Clock::time_point start, const char* reason, const char* message) {
    size_t route_index = 0;
    HttpResponse response = state_->handler->Reject(
        request, ApiError(MakeError(Code::kUnavailable, reason, message)), route_index);
    Send(*state_, writer, conn, response);
    state_->handler->Record(request, response, route_index,
                            std::chrono::duration<double>(Clock::now() - start).count());
  }

  // The one place every response passes through on its way to the socket.
  // The promise (resolved on the reactor thread once the socket took the
  // bytes) matters only to deferred answers (pistache_channel.h).
  static Pistache::Async::Promise<ssize_t> Send(ServerState& state, PHttp::ResponseWriter& writer,
                                                const Connection& conn,
                   const HttpResponse& response) {
    auto& headers = writer.headers();
    // Pistache 0.0.5 answers "Connection: Close" to every HTTP/1.1 request
    // without a Connection header (STACK.md), against HTTP/1.1's persistent
    // default; clients then reconnect for every request. Replace it (add()
    // keeps the first) unless the client asked to close, or we are draining.
    // After an unread body the connection cannot carry another request.
    if (conn.http11 || conn.body_left_unread) {
      const bool close =
          conn.client_asked_close || conn.body_left_unread || state.handler->draining();
      headers.remove<PHttp::Header::Connection>();
      headers.add<PHttp::Header::Connection>(close ? PHttp::ConnectionControl::Close
                                                   : PHttp::ConnectionControl::KeepAlive);
    }
    if (!response.content_type.empty()) {
      headers.add(std::make_shared<NamedHeader>("Content-Type", response.content_type));
    }
    for (const auto& [name, value] : response.headers) {
      headers.add(std::make_shared<NamedHeader>(name, value));
    }
    // The promise is dropped on purpose: a write to a peer that went away
    // fails inside Pistache, and there is no one left to tell. Pistache
    // queues the bytes to the connection's reactor thread, so this is safe
    // from a WorkPool thread too.
    auto sent = writer.send(static_cast<PHttp::Code>(response.status), response.body);
    // Only now: send() has marked the peer idle, so Pistache's timer judges
    // it by the keep-alive timeout. Cleared earlier, the timer could see a
    // busy peer reset long ago and answer 408 after all.
    if (conn.parser) conn.parser->EndAnswering(conn.answering);
    return sent;
  }

  std::shared_ptr<ServerState> state_;
};

}  // namespace

void ServerState::CloseConnections() {
  std::lock_guard lock(peers_mu);
  for (const auto& [key, weak] : peers) {
    if (auto peer = weak.lock()) ::shutdown(peer->fd(), SHUT_RDWR);
  }
}

std::shared_ptr<PHttp::Handler> MakePistacheHandler(std::shared_ptr<ServerState> state) {
  return PHttp::make_handler<PistacheHandler>(std::move(state));
}

}  // namespace jobtrail::http

// HttpServer on Pistache: endpoint setup, the adapter between Pistache's
// request/response and RequestHandler, the keep-alive fix, and graceful
// shutdown.
#include "http/http_server.h"

#include <pistache/endpoint.h>
#include <pistache/http.h>
#include <pistache/http_headers.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <mutex>

#include <fmt/format.h>

#include "http/api_routes.h"
#include "http/authenticator.h"
#include "http/dialect_routes.h"
#include "http/metrics.h"
#include "http/pistache_security.h"
#include "http/query_parsing.h"
#include "http/request_gate.h"
#include "http/request_handler.h"

namespace jobtrail::http {
namespace {

namespace PHttp = Pistache::Http;

// Room for the request line and headers on top of the body limit, so that a
// body just over the limit still reaches RequestHandler and gets the JSON
// 413 (with CORS headers) instead of Pistache's bare one.
constexpr size_t kHeaderAllowance = 64 * 1024;
constexpr auto kDrainTimeout = std::chrono::seconds(10);

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

// What every Pistache handler clone (one per reactor thread) shares.
struct ServerState {
  JobStore* store = nullptr;
  std::unique_ptr<Authenticator> authenticator;  // before api, which points to it
  ApiContext api;
  std::unique_ptr<Metrics> metrics;
  std::unique_ptr<RequestHandler> handler;
  // Open connections per client address (null: unlimited).
  std::shared_ptr<ConnectionLimiter> connections;

  std::mutex mu;
  std::condition_variable idle;
  int in_flight = 0;  // GUARDED_BY(mu)
};

class PistacheHandler final : public PHttp::Handler {
 public:
  HTTP_PROTOTYPE(PistacheHandler)

  explicit PistacheHandler(std::shared_ptr<ServerState> state) : state_(std::move(state)) {}

  // Replaces Http::Handler's (private) one: the same request parser, plus
  // the per-address connection limit.
  void onConnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer) override {
    SetUpConnection(peer, getMaxRequestSize(), state_->connections.get());
  }

  void onRequest(const PHttp::Request& req, PHttp::ResponseWriter writer) override {
    const auto start = std::chrono::steady_clock::now();
    InFlight guard(*state_);
    HttpRequest request = Convert(req);
    size_t route_index = 0;
    HttpResponse response = state_->handler->Handle(request, route_index);
    Send(req, writer, response);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    state_->handler->Record(request, response, route_index, seconds);
  }

 private:
  struct InFlight {
    explicit InFlight(ServerState& s) : state(s) {
      std::lock_guard lock(state.mu);
      ++state.in_flight;
    }
    ~InFlight() {
      std::lock_guard lock(state.mu);
      if (--state.in_flight == 0) state.idle.notify_all();
    }
    ServerState& state;
  };

  static HttpRequest Convert(const PHttp::Request& req) {
    HttpRequest r;
    r.method = MethodName(req.method());
    r.path = req.resource();
    FillRequestShape(req, r);
    const auto& q = req.query();
    for (auto it = q.parameters_begin(); it != q.parameters_end(); ++it) {
      r.query.emplace_back(PercentDecode(it->first, true).value_or(it->first),
                           PercentDecode(it->second, true).value_or(it->second));
    }
    r.body = req.body();
    const PHttp::Header::Collection* headers = &req.headers();
    r.header = [headers](std::string_view name) -> std::optional<std::string> {
      return HeaderValue(*headers, name);
    };
    return r;
  }

  // The one place every response passes through on its way to the socket.
  void Send(const PHttp::Request& req, PHttp::ResponseWriter& writer,
            const HttpResponse& response) {
    auto& headers = writer.headers();
    // Pistache 0.0.5 answers "Connection: Close" to every HTTP/1.1 request
    // without a Connection header (STACK.md), against HTTP/1.1's persistent
    // default; clients then reconnect for every request. Replace it (add()
    // keeps the first) unless the client asked to close, or we are draining.
    if (req.version() == PHttp::Version::Http11) {
      auto asked = req.headers().tryGet<PHttp::Header::Connection>();
      const bool close = (asked && asked->control() == PHttp::ConnectionControl::Close) ||
                         state_->handler->draining();
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
    // fails inside Pistache, and there is no one left to tell.
    (void)writer.send(static_cast<PHttp::Code>(response.status), response.body);
  }

  std::shared_ptr<ServerState> state_;
};

std::shared_ptr<spdlog::logger> AccessLogger() {
  // The CLI may register its own "access" logger (file, format); otherwise
  // access lines go to stderr, leaving stdout to the CLI.
  if (auto existing = spdlog::get("access")) return existing;
  auto logger = std::make_shared<spdlog::logger>(
      "access", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ access %v", spdlog::pattern_time_type::utc);
  spdlog::register_logger(logger);
  return logger;
}

class PistacheServer final : public HttpServer {
 public:
  PistacheServer(std::shared_ptr<ServerState> state,
                 std::shared_ptr<PHttp::Endpoint> endpoint)
      : state_(std::move(state)), endpoint_(std::move(endpoint)) {}
  ~PistacheServer() override { Shutdown(); }

  uint16_t port() const override { return port_; }
  void set_port(uint16_t port) { port_ = port; }

  void Shutdown() override {
    std::call_once(shutdown_once_, [this] {
      state_->handler->StartDraining();
      {
        // Requests already inside a handler finish and are answered; new
        // ones get 503 SHUTTING_DOWN until the listener stops.
        std::unique_lock lock(state_->mu);
        state_->idle.wait_for(lock, kDrainTimeout, [this] { return state_->in_flight == 0; });
      }
      endpoint_->shutdown();
    });
  }

 private:
  std::shared_ptr<ServerState> state_;
  std::shared_ptr<PHttp::Endpoint> endpoint_;
  uint16_t port_ = 0;
  std::once_flag shutdown_once_;
};

Result<void> CheckOptions(const ServerOptions& o) {
  if (o.host.empty()) return InvalidArgument("listen host is empty");
  if (o.threads < 1 || o.threads > 256) return InvalidArgument("threads must be 1..256");
  if (o.max_body_bytes < 1) return InvalidArgument("max_body_bytes must be at least 1");
  if (o.max_batch_operations < 1) {
    return InvalidArgument("max_batch_operations must be at least 1");
  }
  return Ok();
}

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::Start(JobStore& store,
                                                      const ServerOptions& options) {
  BOOST_OUTCOME_TRYV(CheckOptions(options));
  auto state = std::make_shared<ServerState>();
  state->store = &store;
  state->api.store = &store;
  state->api.max_batch_operations = options.max_batch_operations;
  BOOST_OUTCOME_TRY(authenticator, Authenticator::Create(options.security.auth, store.clock()));
  state->authenticator = std::move(authenticator);
  state->api.authenticator = state->authenticator.get();
  state->api.webhook_secret = options.security.webhook_secret;
  Router router;
  AddApiRoutes(router, state->api);
  BOOST_OUTCOME_TRYV(AddDialectRoutes(router, state->api, options.dialects));
  state->metrics = std::make_unique<Metrics>(router.routes());
  state->api.metrics = state->metrics.get();
  RequestHandler::Options handler_options;
  handler_options.max_body_bytes = options.max_body_bytes;
  handler_options.cors_origins = options.cors_origins;
  if (options.access_log) handler_options.access_log = AccessLogger();
  RateLimitOptions rates = options.security.rates;
  if (options.security.auth.insecure_no_auth) rates.enabled = false;
  handler_options.gate = std::make_shared<RequestGate>(
      *state->authenticator, store, options.security.limits, rates, state->api.route_access);
  if (options.security.max_connections_per_address > 0) {
    state->connections =
        std::make_shared<ConnectionLimiter>(options.security.max_connections_per_address);
  }
  state->handler = std::make_unique<RequestHandler>(std::move(router),
                                                    std::move(handler_options),
                                                    state->metrics.get());
  try {
    auto endpoint = std::make_shared<PHttp::Endpoint>(
        Pistache::Address(options.host, Pistache::Port(options.port)));
    auto opts = PHttp::Endpoint::options()
                    .threads(int(options.threads))
                    .flags(Pistache::Tcp::Options::ReuseAddr)
                    .maxRequestSize(options.max_body_bytes + kHeaderAllowance)
                    .headerTimeout(std::chrono::milliseconds(options.security.header_timeout_ms))
                    .bodyTimeout(std::chrono::milliseconds(options.security.body_timeout_ms))
                    .keepaliveTimeout(
                        std::chrono::milliseconds(options.security.keepalive_timeout_ms))
                    .backlog(1024);
    endpoint->init(opts);
    endpoint->setHandler(PHttp::make_handler<PistacheHandler>(state));
    endpoint->serveThreaded();  // binds, then serves on background threads
    const uint16_t port = uint16_t(endpoint->getPort());
    auto server = std::make_unique<PistacheServer>(state, endpoint);
    server->set_port(port);
    return std::unique_ptr<HttpServer>(std::move(server));
  } catch (const std::exception& e) {
    return MakeError(Code::kUnavailable, "BIND_FAILED",
                     fmt::format("cannot listen on {}:{}: {}", options.host, options.port,
                                 e.what()));
  }
}

}  // namespace jobtrail::http

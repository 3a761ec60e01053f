// HttpServer on Pistache: endpoint setup and graceful shutdown. The
// per-request bridge (and the keep-alive fix) is in pistache_adapter.cc.
#include "http/app/http_server.h"

#include <filesystem>

#include <pistache/endpoint.h>
#include <pistache/http.h>
#include <pistache/http_headers.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>
#include <condition_variable>
#include <mutex>

#include <fmt/format.h>

#include "http/dialects/routes.h"
#include "http/security/request_gate.h"
#include "http/server/pistache_adapter.h"
#include "http/server/request_handler.h"
#include "http/server/socket_cleanup.h"
#include "http/v1/api_routes.h"
#include "http/v1/backup_jobs.h"
#include "http/v1/metrics.h"

namespace jobtrail::http {
namespace {

namespace PHttp = Pistache::Http;

// Room for the request line and headers on top of the body limit, so that a
// body just over the limit still reaches RequestHandler and gets the JSON
// 413 (with CORS headers) instead of Pistache's bare one.
constexpr size_t kHeaderAllowance = 64 * 1024;
constexpr auto kDrainTimeout = std::chrono::seconds(10);

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
      // Accepted requests (queued writes included) finish and are answered;
      // new ones get 503 SHUTTING_DOWN until the listener stops.
      state_->handler->StartDraining();
      for (const auto& drain : state_->drains) drain();
      state_->WaitIdle(kDrainTimeout);
      if (state_->writes) state_->writes->Stop();
      state_->CloseConnections();
      endpoint_->shutdown();
      // Destroying the endpoint joins its threads and closes the listening
      // socket; until then the kernel would keep completing handshakes into
      // its backlog for requests no one will read.
      endpoint_.reset();
      CloseAcceptedSockets(port_);
    });
  }

 private:
  std::shared_ptr<ServerState> state_;
  std::shared_ptr<PHttp::Endpoint> endpoint_;
  uint16_t port_ = 0;
  std::once_flag shutdown_once_;
};

// What the routes point into; ServerState owns it (routes_context).
struct ApiState {
  std::unique_ptr<Authenticator> authenticator;  // before api, which points to it
  ApiContext api;
  std::unique_ptr<Metrics> metrics;
};

Result<void> CheckOptions(const ServerOptions& o) {
  if (o.host.empty()) return InvalidArgument("listen host is empty");
  if (o.threads < 1 || o.threads > 256) return InvalidArgument("threads must be 1..256");
  if (o.max_body_bytes < 1) return InvalidArgument("max_body_bytes must be at least 1");
  if (o.write_threads > 1024) return InvalidArgument("write_threads must be 0..1024");
  if (o.max_queued_writes < 1) return InvalidArgument("max_queued_writes must be at least 1");
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
  auto app = std::make_shared<ApiState>();
  state->routes_context = app;
  app->api.UseStore(store);
  app->api.max_batch_operations = options.max_batch_operations;
  state->parser_limits = {options.max_body_bytes + kHeaderAllowance, options.max_body_bytes,
                           options.security.limits.max_headers,
                           options.security.limits.max_header_bytes};
  app->api.max_projection_lag_ms = options.max_projection_lag_ms;
  BOOST_OUTCOME_TRY(authenticator, Authenticator::Create(options.security.auth, store.clock()));
  app->authenticator = std::move(authenticator);
  app->api.authenticator = app->authenticator.get();
  app->api.webhook_secret = options.security.webhook_secret;
  if (!options.backup_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(options.backup_dir, ec);
    if (ec || !std::filesystem::is_directory(options.backup_dir, ec)) {
      return InvalidArgument("--backup-dir '" + options.backup_dir + "' is not a directory");
    }
    app->api.backups = std::make_shared<BackupJobs>(store, options.backup_dir, store.clock());
  }
  Router router;
  AddApiRoutes(router, app->api);
  BOOST_OUTCOME_TRYV(AddDialectRoutes(router, app->api, options.dialects));
  for (const auto& mount : options.mounts) mount(router, app->api);
  state->drains = options.drains;
  app->metrics = std::make_unique<Metrics>(router.routes());
  app->api.metrics = app->metrics.get();
  RequestHandler::Options handler_options;
  handler_options.max_body_bytes = options.max_body_bytes;
  handler_options.cors_origins = options.cors_origins;
  if (options.access_log) handler_options.access_log = AccessLogger();
  BOOST_OUTCOME_TRY(proxies, TrustedProxies::Parse(options.security.trusted_proxies));
  handler_options.trusted_proxies = std::move(proxies);
  RateLimitOptions rates = options.security.rates;
  if (options.security.auth.insecure_no_auth) rates.enabled = false;
  handler_options.gate = std::make_shared<RequestGate>(
      *app->authenticator, store, options.security.limits, rates, app->api.route_access);
  if (options.security.max_connections_per_address > 0) {
    state->connections =
        std::make_shared<ConnectionLimiter>(options.security.max_connections_per_address);
  }
  state->handler = std::make_unique<RequestHandler>(std::move(router),
                                                    std::move(handler_options),
                                                    app->metrics.get());
  if (options.write_threads > 0) {
    state->writes = std::make_unique<WorkPool>(options.write_threads, options.max_queued_writes);
    app->metrics->SetWriteQueue(state->writes.get());
  }
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
    endpoint->setHandler(MakePistacheHandler(state));
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

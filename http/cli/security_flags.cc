#include "http/cli/security_flags.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <iostream>

#include "http/security/key_store.h"
#include "http/security/secret_file.h"
#include "http/security/share_token.h"

namespace jobtrail::cli {
namespace {

// Start-up messages go to stderr: stdout's first line is the "listening on"
// announcement that scripts and tests read.
spdlog::logger& Log() {
  static std::shared_ptr<spdlog::logger> logger = [] {
    if (auto existing = spdlog::get("security")) return existing;
    auto l = std::make_shared<spdlog::logger>(
        "security", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    spdlog::register_logger(l);
    return l;
  }();
  return *logger;
}

// A secret from FILE or ENV (at most one given). Empty when neither.
bool ReadSecret(const char* what, const std::string& file, const std::string& env,
                std::string& out) {
  if (!file.empty() && !env.empty()) {
    std::cerr << "jobtrail: give the " << what << " as a file or an environment variable, "
              << "not both\n";
    return false;
  }
  if (file.empty() && env.empty()) return true;
  auto secret = file.empty() ? http::ReadSecretEnv(env) : http::ReadSecretFile(file);
  if (!secret) {
    std::cerr << "jobtrail: cannot read the " << what << ": " << secret.error().message << "\n";
    return false;
  }
  out = std::move(secret).value();
  return true;
}

}  // namespace

void AddSecurityFlags(CLI::App* serve, SecurityFlags& f) {
  const char* group = "Security (README: Security)";
  auto* o = &f.options;
  serve->add_flag("--insecure-no-auth", f.insecure_no_auth,
                  "Turn authentication and rate limits off: every request is an admin. "
                  "For local development only")
      ->group(group);
  serve->add_option("--jwt-hs256-secret-file", f.jwt_hs256_secret_file,
                    "Accept HS256 JWTs signed with the secret in this file (>= 32 bytes)")
      ->group(group);
  serve->add_option("--jwt-hs256-secret-env", f.jwt_hs256_secret_env,
                    "... or with the secret in this environment variable")
      ->group(group);
  serve->add_option("--jwt-rs256-public-key-file", f.jwt_rs256_public_key_file,
                    "Accept RS256 JWTs verified with this RSA public key (PEM)")
      ->group(group);
  serve->add_option("--jwt-issuer", f.jwt_issuer, "Required JWT 'iss' (unset: not checked)")
      ->group(group);
  serve->add_option("--jwt-audience", f.jwt_audience,
                    "Required JWT 'aud' entry (unset: not checked)")
      ->group(group);
  serve->add_option("--jwt-role-claim", f.jwt_role_claim,
                    "JWT claim holding admin|worker|reader (absent: reader)")
      ->capture_default_str()
      ->group(group);
  serve->add_option("--share-secret-file", f.share_secret_file,
                    "HMAC key for share links (default: <data-dir>/share.key, created if absent)")
      ->group(group);
  serve->add_option("--share-secret-env", f.share_secret_env,
                    "... or from this environment variable")
      ->group(group);
  serve->add_option("--webhook-secret-file", f.webhook_secret_file,
                    "Shared secret of the cron webhook route (x-webhook-secret)")
      ->group(group);
  serve->add_option("--webhook-secret-env", f.webhook_secret_env,
                    "... or from this environment variable")
      ->group(group);
  serve->add_option("--rate-limit", f.rate_limits,
                    "NAME=N/PERIOD or NAME=off (repeatable); NAME: address, reader, "
                    "reader-create, poll, worker, worker-create, admin, webhook, webhook-burst, "
                    "public-reads; PERIOD like 1s, 15m, 1h")
      ->group(group);
  serve->add_option("--trusted-proxy", o->trusted_proxies,
                    "A reverse proxy (address or CIDR block, repeatable) whose "
                    "X-Forwarded-For names the client for limits and logs; none by default")
      ->group(group);
  serve->add_flag("--no-rate-limit", f.no_rate_limit, "Turn every rate limit off")->group(group);
  serve->add_option("--max-connections-per-address", o->max_connections_per_address,
                    "Open connections allowed per client address (0: unlimited)")
      ->capture_default_str()
      ->group(group);
  serve->add_option("--max-url-bytes", o->limits.max_url_bytes,
                    "Longest request target (414 above)")
      ->capture_default_str()
      ->check(CLI::Range(size_t{256}, size_t{1} << 20))
      ->group(group);
  serve->add_option("--max-headers", o->limits.max_headers, "Most header fields (431 above)")
      ->capture_default_str()
      ->check(CLI::Range(size_t{8}, size_t{10000}))
      ->group(group);
  serve->add_option("--max-header-bytes", o->limits.max_header_bytes,
                    "Largest header section (431 above)")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1024}, size_t{1} << 20))
      ->group(group);
  serve->add_option("--header-timeout-ms", o->header_timeout_ms,
                    "Time allowed for a request's header to arrive")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{100}, int64_t{3600000}))
      ->group(group);
  serve->add_option("--body-timeout-ms", o->body_timeout_ms,
                    "Time allowed for a request's body to arrive")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{100}, int64_t{3600000}))
      ->group(group);
  serve->add_option("--keepalive-timeout-ms", o->keepalive_timeout_ms,
                    "Idle keep-alive connections are closed after this")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{100}, int64_t{3600000}))
      ->group(group);
}

bool ResolveSecurity(const SecurityFlags& f, std::shared_ptr<config::ConfigStore> config,
                     http::SecurityOptions& out) {
  out = f.options;
  for (const std::string& spec : f.rate_limits) {
    if (auto set = http::SetRateLimit(out.rates, spec); !set) {
      std::cerr << "jobtrail: " << set.error().message << "\n";
      return false;
    }
  }
  if (f.no_rate_limit) out.rates.enabled = false;
  if (!ReadSecret("webhook secret", f.webhook_secret_file, f.webhook_secret_env,
                  out.webhook_secret)) {
    return false;
  }
  if (f.insecure_no_auth) {
    out.auth.insecure_no_auth = true;
    out.rates.enabled = false;
    Log().warn(
        "--insecure-no-auth: authentication and rate limits are OFF; every request acts as "
        "an admin. Never expose this server beyond localhost");
    return true;
  }
  out.auth.config = config;
  http::JwtOptions jwt;
  jwt.issuer = f.jwt_issuer;
  jwt.audience = f.jwt_audience;
  jwt.role_claim = f.jwt_role_claim;
  if (!ReadSecret("JWT HS256 secret", f.jwt_hs256_secret_file, f.jwt_hs256_secret_env,
                  jwt.hs256_secret)) {
    return false;
  }
  if (!f.jwt_rs256_public_key_file.empty()) {
    auto pem = http::ReadWholeFile(f.jwt_rs256_public_key_file);
    if (!pem) {
      std::cerr << "jobtrail: cannot read the JWT RS256 public key: " << pem.error().message
                << "\n";
      return false;
    }
    jwt.rs256_public_pem = std::move(pem).value();
  }
  if (!jwt.hs256_secret.empty() || !jwt.rs256_public_pem.empty()) {
    out.auth.jwt = std::move(jwt);
  } else if (!f.jwt_issuer.empty() || !f.jwt_audience.empty()) {
    std::cerr << "jobtrail: --jwt-issuer/--jwt-audience need a JWT key "
              << "(--jwt-hs256-secret-file/-env or --jwt-rs256-public-key-file)\n";
    return false;
  }
  if (!ReadSecret("share-link secret", f.share_secret_file, f.share_secret_env,
                  out.auth.share_secret)) {
    return false;
  }
  if (out.auth.share_secret.empty()) {
    auto secret = http::ShareTokens::LoadOrCreateSecret(*config);
    if (!secret) {
      std::cerr << "jobtrail: cannot set up share links: " << secret.error().message << "\n";
      return false;
    }
    out.auth.share_secret = std::move(secret).value();
  }
  auto read = config->Read(config::Doc::kApiKeys);
  auto keys = read ? http::KeyStore::FromSnapshot(config->Describe(config::Doc::kApiKeys),
                                                  read.value())
                   : Result<http::KeyStore>(read.error());
  if (!keys) {
    std::cerr << "jobtrail: " << keys.error().message << "\n";
    return false;
  }
  size_t active = 0;
  for (const auto& k : keys.value().keys()) active += k.active() ? 1 : 0;
  Log().info("authentication on: {} active API key(s) in {}{}{}; rate limits: {}", active,
               config->Describe(config::Doc::kApiKeys), out.auth.jwt ? "; JWT " : "",
               out.auth.jwt ? std::string(out.auth.jwt->hs256_secret.empty() ? "" : "HS256 ") +
                                  (out.auth.jwt->rs256_public_pem.empty() ? "" : "RS256")
                            : std::string(),
               http::DescribeRateLimits(out.rates));
  if (active == 0 && !out.auth.jwt) {
    Log().warn("no active API key and no JWT key: every request needing credentials will "
                 "be refused. Create a key with `jobtrail keys create --role admin {}`",
                 config->shared() ? "--log postgresql://..." : "--data-dir DIR");
  }
  return true;
}

}  // namespace jobtrail::cli

#include "http/webhooks/webhook_flags.h"

#include "domain/retry_policy.h"
#include "http/security/secret_file.h"

namespace jobtrail::webhooks {

void AddWebhookFlags(CLI::App* serve, WebhookFlags& f) {
  const std::string group = "Webhooks";
  serve->add_flag("--no-webhooks", f.disabled,
                  "Send no webhooks (no /v1/webhooks routes; callback_url is refused)")
      ->group(group);
  serve->add_flag("--webhook-allow-private", f.allow_private,
                  "Let webhooks reach loopback and private addresses (SSRF protection off: "
                  "tests and closed networks only)")
      ->group(group);
  serve->add_option("--webhook-retry-policy", f.retry_policy,
                    "Backoff between a delivery's attempts: BACKOFF:BASE_MS[:MAX_MS[:JITTER]]")
      ->capture_default_str()
      ->group(group);
  serve->add_option("--webhook-max-attempts", f.max_attempts,
                    "Attempts per delivery before it is given up")
      ->capture_default_str()
      ->check(CLI::Range(1, 100))
      ->group(group);
  serve->add_option("--webhook-timeout-ms", f.timeout_ms,
                    "Time one attempt may take, connecting included")
      ->capture_default_str()
      ->check(CLI::Range(100, 600000))
      ->group(group);
  serve->add_option("--webhook-threads", f.threads, "Threads that deliver webhooks")
      ->capture_default_str()
      ->check(CLI::Range(1, 256))
      ->group(group);
  serve->add_option("--webhook-max-pending", f.max_pending,
                    "Deliveries held in memory; beyond, the log is read no further until "
                    "some settle")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000000))
      ->group(group);
  serve->add_option("--webhook-signing-key-file", f.signing_key_file,
                    "Key the callback secrets derive from (default: <data-dir>/webhook.key, "
                    "created if absent)")
      ->group(group);
  serve->add_option("--webhook-signing-key-env", f.signing_key_env,
                    "... or from this environment variable")
      ->group(group);
}

Result<WebhookOptions> ResolveWebhookOptions(const WebhookFlags& f, const std::string& data_dir) {
  WebhookOptions options;
  options.data_dir = data_dir;
  options.allow_private = f.allow_private;
  BOOST_OUTCOME_TRY(policy, ParseRetryPolicy(f.retry_policy));
  policy.max_attempts = f.max_attempts;
  BOOST_OUTCOME_TRYV(policy.Validate());
  options.dispatch.retry = policy;
  options.dispatch.timeout_ms = f.timeout_ms;
  options.dispatch.threads = f.threads;
  options.dispatch.max_pending = f.max_pending;
  if (!f.signing_key_file.empty() && !f.signing_key_env.empty()) {
    return InvalidArgument("give --webhook-signing-key-file or --webhook-signing-key-env, not both");
  }
  if (!f.signing_key_file.empty()) {
    BOOST_OUTCOME_TRY(key, http::ReadSecretFile(f.signing_key_file));
    options.signing_key = std::move(key);
  } else if (!f.signing_key_env.empty()) {
    BOOST_OUTCOME_TRY(key, http::ReadSecretEnv(f.signing_key_env));
    options.signing_key = std::move(key);
  }
  if (!options.signing_key.empty() && options.signing_key.size() < 32) {
    return InvalidArgument("the webhook signing key must be at least 32 bytes");
  }
  return options;
}

}  // namespace jobtrail::webhooks

#pragma once
// `jobtrail serve`'s webhook flags, and how they become WebhookOptions.
#include <CLI/CLI.hpp>

#include <string>

#include "http/webhooks/webhook_service.h"

namespace jobtrail::webhooks {

struct WebhookFlags {
  bool disabled = false;       // --no-webhooks
  bool allow_private = false;  // --webhook-allow-private
  std::string retry_policy = "exponential:5000:3600000:0.2";
  int max_attempts = 10;
  Millis timeout_ms = 10000;
  size_t threads = 4;
  size_t max_pending = 10000;
  std::string signing_key_file;
  std::string signing_key_env;
};

void AddWebhookFlags(CLI::App* serve, WebhookFlags& flags);

// The options for WebhookService::Open (signing key read from its file or
// variable when named). Errors: kInvalidArgument, kNotFound (a named file
// or variable that is not there).
Result<WebhookOptions> ResolveWebhookOptions(const WebhookFlags& flags,
                                             const std::string& data_dir);

}  // namespace jobtrail::webhooks

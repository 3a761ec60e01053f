#pragma once
// Checking a shared webhook secret (seed 002's `x-webhook-secret` header on
// the cron route). Both sides are hashed with SHA-256 first and the digests
// compared with CRYPTO_memcmp, so neither the contents nor the length of the
// expected secret leak through timing.
#include <optional>
#include <string>
#include <string_view>

namespace jobtrail::http {

// False when `expected` is empty (an unset secret never matches).
bool WebhookSecretMatches(std::string_view given, std::string_view expected);

// A request header (request.Header("x-webhook-secret")) against `expected`;
// an absent header counts as wrong.
bool WebhookHeaderMatches(const std::optional<std::string>& given, std::string_view expected);

// Vercel's scheme: x-vercel-signature is the hex HMAC-SHA1 of the raw body
// under the shared secret. Compared in constant time; absent: wrong.
bool WebhookSignatureMatches(const std::optional<std::string>& signature_hex,
                             std::string_view body, std::string_view secret);

}  // namespace jobtrail::http

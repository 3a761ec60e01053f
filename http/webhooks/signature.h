#pragma once
// Signing webhook deliveries, and the secrets they are signed with.
//
// Every delivery carries
//   X-Jobtrail-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
// (Stripe's scheme): the receiver recomputes the HMAC over the timestamp, a
// dot and the raw body with its secret, compares in constant time, and
// refuses timestamps too far from its clock (replays). The README has the
// check in a shell, Node.js and Python.
//
// A subscription's secret is its own (given, or generated at creation and
// shown once). A job's callback_url is signed with its owner's callback
// secret, derived from the server's signing key, so each owner can verify
// its callbacks and none can forge another's (GET /v1/webhooks/callback-secret).
//
// Pure functions on OpenSSL; thread-safe.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "domain/error.h"

namespace jobtrail::webhooks {

inline constexpr std::string_view kSecretPrefix = "whsec_";

// "t=1700000000,v1=5257a8..." for `body` sent at `unix_seconds`.
std::string SignatureHeader(std::string_view secret, int64_t unix_seconds, std::string_view body);

// Does `header` sign `body` with `secret`, at a time within `tolerance_s`
// of `now_unix`? Several v1= entries are allowed (one may match).
bool VerifySignatureHeader(std::string_view header, std::string_view secret,
                           std::string_view body, int64_t now_unix, int64_t tolerance_s);

// "whsec_" + 64 hex digits from the CSPRNG. Errors: kInternal (it failed).
Result<std::string> NewSecret();

// The callback secret of `owner`: "whsec_" + hex HMAC-SHA256(signing_key,
// "jobtrail-callback-secret\0" + owner).
std::string CallbackSecret(std::string_view signing_key, std::string_view owner);

// <data-dir>/webhook.key, created (32 random bytes, hex, mode 0600) when
// absent. Errors: kInternal.
Result<std::string> LoadOrCreateSigningKey(const std::string& data_dir);

}  // namespace jobtrail::webhooks

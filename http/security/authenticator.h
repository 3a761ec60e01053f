#pragma once
// Authenticator: turns a request's credentials into the Principal it acts
// as. The one entry point for every route that needs to know who asks —
// the canonical API (through the request gate) and the seed dialects.
//
// Credentials, first match wins:
//   Authorization: Bearer <API key "jt_..." | JWT (HS256/RS256)>
//   X-API-Key: <API key>
//   ?token=<share link>   (read-only, one job; see share_token.h)
// No credentials: kUnauthenticated/MISSING_CREDENTIALS. Wrong, revoked,
// expired, wrong issuer/audience, bad signature: kUnauthenticated/
// INVALID_CREDENTIALS — one message for all, so probing learns nothing;
// the precise reason is logged at debug level (never the credential).
// With insecure_no_auth every request is an admin (subject "") and no
// credential is looked at.
//
// API keys are re-read from their store (keys.json, or the shared
// configuration of nodes on a PostgreSQL log) when it changes, checked at
// most once a second (config/cached_doc.h): `jobtrail keys create/revoke`
// take effect on a running server, and on every node of a cluster, within
// a second.
//
// Thread-safe.
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "eventstore/config/cached_doc.h"
#include "domain/clock.h"
#include "domain/error.h"
#include "http/security/jwt_verifier.h"
#include "http/security/key_store.h"
#include "http/security/share_token.h"
#include "http/server/api_error.h"
#include "http/server/http_types.h"
#include "http/server/principal.h"

namespace jobtrail::http {

struct AuthOptions {
  bool insecure_no_auth = false;
  std::string keys_path;            // <dir>/keys.json; empty: API keys not accepted
  // Where API keys live (config/config_store.h); wins over keys_path.
  std::shared_ptr<config::ConfigStore> config;
  std::optional<JwtOptions> jwt;    // nullopt: JWTs not accepted
  std::string share_secret;         // empty: share links disabled
};

class Authenticator {
 public:
  // `clock` (token expiry) must outlive the authenticator.
  // Errors: kInvalidArgument (bad JWT key), kDataLoss (bad keys.json).
  static Result<std::unique_ptr<Authenticator>> Create(AuthOptions options, const Clock& clock);

  // The principal behind the request's credentials (see above).
  ApiResult<Principal> Authenticate(const HttpRequest& request) const;
  // A bearer token's principal: an API key or a JWT.
  ApiResult<Principal> AuthenticateBearer(std::string_view token) const;
  // A share link's principal (kShareLink, role reader, share_job set).
  ApiResult<Principal> AuthenticateShareToken(std::string_view token) const;

  // Null when share links are disabled.
  const ShareTokens* share_tokens() const { return share_.get(); }
  bool insecure() const { return options_.insecure_no_auth; }
  const Clock& clock() const { return clock_; }

 private:
  Authenticator(AuthOptions options, const Clock& clock) : options_(std::move(options)), clock_(clock) {}

  AuthOptions options_;
  const Clock& clock_;
  std::unique_ptr<JwtVerifier> jwt_;
  std::unique_ptr<ShareTokens> share_;
  std::unique_ptr<config::CachedDoc<KeyStore>> keys_;  // null: API keys not accepted
};

// The errors Authenticate answers (for dialects that map them to their own
// bodies): reason MISSING_CREDENTIALS or INVALID_CREDENTIALS.
Error MissingCredentials();
Error InvalidCredentials();

}  // namespace jobtrail::http

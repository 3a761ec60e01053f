#pragma once
// ShareTokens: signed, read-only links to one job (`GET /v1/jobs/{id}?token=`).
//
// Token: "jts1." + base64url(job_id "\n" expiry_ms) + "." +
//        base64url(HMAC-SHA256(secret, everything before the last dot)).
// Nothing is stored: a token is valid until its expiry; rotating the secret
// (<data-dir>/share.key, the shared configuration's share_key on a
// PostgreSQL log, or --share-secret-file/-env) revokes every link.
//
// Thread-safe (immutable after construction).
#include <string>
#include <string_view>

#include "eventstore/config/config_store.h"
#include "domain/error.h"
#include "domain/job_event.h"

namespace jobtrail::http {

class ShareTokens {
 public:
  // `secret`: at least 32 bytes.
  explicit ShareTokens(std::string secret) : secret_(std::move(secret)) {}

  std::string Issue(std::string_view job_id, Millis expires_at) const;
  // The job the token grants, if it is genuine and not expired at `now`.
  // Errors: kUnauthenticated/INVALID_CREDENTIALS.
  Result<std::string> Verify(std::string_view token, Millis now) const;

  static bool LooksLikeShareToken(std::string_view token);

  // <data-dir>/share.key: read it, or create it with 32 random bytes (hex,
  // mode 0600) if it does not exist. Errors: kInternal.
  static Result<std::string> LoadOrCreateSecret(const std::string& data_dir);
  // The same in a configuration store (config/config_store.h): on a shared
  // PostgreSQL log the first node to start creates it and every node uses
  // it, so a link minted on one node opens on all. Errors: the store's,
  // kInvalidArgument (an empty key).
  static Result<std::string> LoadOrCreateSecret(config::ConfigStore& store);

 private:
  std::string secret_;
};

}  // namespace jobtrail::http

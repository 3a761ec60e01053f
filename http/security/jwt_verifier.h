#pragma once
// JwtVerifier: checks JSON Web Tokens (RFC 7519) signed with HS256 (a
// shared secret) or RS256 (an RSA public key in PEM), on OpenSSL.
//
// A token is accepted only if: it has three base64url parts; its header's
// "alg" is one this verifier was given a key for (never "none"; an HS256
// token is never checked against the RSA key, so a public key cannot be
// used as an HMAC secret); the signature verifies; "exp" is present and
// not past; "nbf", if present, is reached (both with `leeway_ms`); "iss"
// equals `issuer` and "aud" (string or array) contains `audience` when
// those are configured; "sub" is a non-empty string.
// The role comes from the `role_claim` claim (admin|worker|reader; absent:
// reader; anything else: rejected).
//
// Errors say only that the token is not valid (kUnauthenticated,
// INVALID_CREDENTIALS); the precise reason goes to `why` for debug logs.
// Thread-safe after Create().
#include <memory>
#include <string>
#include <string_view>

#include "domain/error.h"
#include "domain/job_event.h"
#include "http/server/principal.h"

namespace jobtrail::http {

struct JwtOptions {
  std::string hs256_secret;    // empty: HS256 not accepted
  std::string rs256_public_pem;  // empty: RS256 not accepted
  std::string issuer;    // empty: not checked
  std::string audience;  // empty: not checked
  std::string role_claim = "role";
  Millis leeway_ms = 30000;
};

class JwtVerifier {
 public:
  // Errors: kInvalidArgument (no key at all, or an unreadable PEM).
  static Result<std::unique_ptr<JwtVerifier>> Create(JwtOptions options);
  ~JwtVerifier();

  // The principal the token names (kind kJwt), as of `now`.
  Result<Principal> Verify(std::string_view token, Millis now, std::string* why = nullptr) const;

  // Whether `token` looks like a JWT (three dot-separated parts).
  static bool LooksLikeJwt(std::string_view token);

 private:
  explicit JwtVerifier(JwtOptions options);
  bool VerifyRs256(std::string_view signed_part, std::string_view signature) const;

  JwtOptions options_;
  struct Pkey;
  std::unique_ptr<Pkey> rsa_;
};

}  // namespace jobtrail::http

#include "http/security/authenticator.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>

#include <fmt/format.h>

#include "eventstore/config/file_config_store.h"

namespace jobtrail::http {
namespace {

// How stale a node's copy of the API keys may be: a revoked key stops
// working everywhere within this.
constexpr std::chrono::milliseconds kKeysMaxAge{1000};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

}  // namespace

Error MissingCredentials() {
  return MakeError(Code::kUnauthenticated, "MISSING_CREDENTIALS",
                   "authentication required: send 'Authorization: Bearer <API key or token>'");
}

Error InvalidCredentials() {
  return MakeError(Code::kUnauthenticated, "INVALID_CREDENTIALS",
                   "the credentials are not valid");
}

Result<std::unique_ptr<Authenticator>> Authenticator::Create(AuthOptions options,
                                                             const Clock& clock) {
  std::unique_ptr<Authenticator> a(new Authenticator(std::move(options), clock));
  if (a->options_.jwt) {
    BOOST_OUTCOME_TRY(jwt, JwtVerifier::Create(*a->options_.jwt));
    a->jwt_ = std::move(jwt);
  }
  if (!a->options_.share_secret.empty()) {
    if (a->options_.share_secret.size() < 32) {
      return InvalidArgument("the share-link secret must be at least 32 bytes");
    }
    a->share_ = std::make_unique<ShareTokens>(a->options_.share_secret);
  }
  std::shared_ptr<config::ConfigStore> store = a->options_.config;
  if (!store && !a->options_.keys_path.empty()) {
    const std::filesystem::path path(a->options_.keys_path);
    if (path.filename() != "keys.json") {
      return InvalidArgument("the keys file must be <data-dir>/keys.json");
    }
    store = std::make_shared<config::FileConfigStore>(path.parent_path().string());
  }
  if (store) {
    a->keys_ = std::make_unique<config::CachedDoc<KeyStore>>(
        store, config::Doc::kApiKeys,
        [where = store->Describe(config::Doc::kApiKeys)](const config::Snapshot& snap) {
          return KeyStore::FromSnapshot(where, snap);
        },
        kKeysMaxAge);
    // Fail at start on a damaged document rather than rejecting every key later.
    BOOST_OUTCOME_TRYV(a->keys_->Load());
  }
  return a;
}

ApiResult<Principal> Authenticator::AuthenticateBearer(std::string_view token) const {
  token = Trim(token);
  if (token.empty()) return MissingCredentials();
  std::string_view id, secret;
  if (SplitApiKey(token, id, secret)) {
    auto keys = keys_ ? keys_->Get() : nullptr;
    const ApiKeyRecord* key = keys ? keys->Verify(token) : nullptr;
    if (key == nullptr) {
      SPDLOG_DEBUG("API key {} rejected", id);
      return InvalidCredentials();
    }
    Principal p;
    p.kind = CredentialKind::kApiKey;
    p.role = key->role;
    p.subject = key->owner;
    p.key_id = key->id;
    return p;
  }
  if (jwt_ && JwtVerifier::LooksLikeJwt(token)) {
    std::string why;
    auto p = jwt_->Verify(token, clock_.Now(), &why);
    if (!p) {
      SPDLOG_DEBUG("JWT rejected: {}", why);
      return InvalidCredentials();
    }
    return std::move(p).value();
  }
  return InvalidCredentials();
}

ApiResult<Principal> Authenticator::AuthenticateShareToken(std::string_view token) const {
  if (!share_) return InvalidCredentials();
  auto job = share_->Verify(token, clock_.Now());
  if (!job) return InvalidCredentials();
  Principal p;
  p.kind = CredentialKind::kShareLink;
  p.role = Role::kReader;
  p.share_job = std::move(job).value();
  p.subject = "share:" + p.share_job;
  return p;
}

ApiResult<Principal> Authenticator::Authenticate(const HttpRequest& request) const {
  if (options_.insecure_no_auth) {
    Principal p;
    p.kind = CredentialKind::kInsecure;
    p.role = Role::kAdmin;
    return p;
  }
  if (auto auth = request.Header("Authorization")) {
    std::string_view value = Trim(*auth);
    if (!StartsWithNoCase(value, "bearer ")) return InvalidCredentials();
    return AuthenticateBearer(value.substr(7));
  }
  if (auto key = request.Header("X-API-Key")) return AuthenticateBearer(*key);
  if (const std::string* token = request.Query("token")) return AuthenticateShareToken(*token);
  return MissingCredentials();
}

}  // namespace jobtrail::http

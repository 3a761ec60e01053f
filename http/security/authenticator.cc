#include "http/security/authenticator.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <chrono>

#include <fmt/format.h>

namespace jobtrail::http {
namespace {

constexpr int64_t kKeysRecheckNs = 1'000'000'000;

int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string FileStamp(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return "absent";
  return fmt::format("{}:{}:{}.{}", st.st_ino, st.st_size, st.st_mtim.tv_sec,
                     st.st_mtim.tv_nsec);
}

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
  if (!a->options_.keys_path.empty()) {
    // Fail at start on a damaged file rather than rejecting every key later.
    BOOST_OUTCOME_TRY(keys, KeyStore::Load(a->options_.keys_path));
    a->keys_ = std::make_shared<const KeyStore>(std::move(keys));
    a->keys_stamp_ = FileStamp(a->options_.keys_path);
    a->keys_checked_ns_ = SteadyNs();
  }
  return a;
}

std::shared_ptr<const KeyStore> Authenticator::CurrentKeys() const {
  std::lock_guard lock(mu_);
  const int64_t now = SteadyNs();
  if (now - keys_checked_ns_ >= kKeysRecheckNs) {
    keys_checked_ns_ = now;
    std::string stamp = FileStamp(options_.keys_path);
    if (stamp != keys_stamp_) {
      auto fresh = KeyStore::Load(options_.keys_path);
      if (fresh) {
        keys_ = std::make_shared<const KeyStore>(std::move(fresh).value());
        keys_stamp_ = std::move(stamp);
        spdlog::info("reloaded {} ({} keys)", options_.keys_path, keys_->keys().size());
      } else {
        // Keep serving with the keys we have; say why once per change.
        keys_stamp_ = std::move(stamp);
        spdlog::error("cannot reload {}: {}; keeping the previous keys", options_.keys_path,
                      fresh.error().message);
      }
    }
  }
  return keys_;
}

ApiResult<Principal> Authenticator::AuthenticateBearer(std::string_view token) const {
  token = Trim(token);
  if (token.empty()) return MissingCredentials();
  std::string_view id, secret;
  if (SplitApiKey(token, id, secret)) {
    auto keys = options_.keys_path.empty() ? nullptr : CurrentKeys();
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

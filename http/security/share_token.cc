#include "http/security/share_token.h"

#include <filesystem>

#include <fmt/format.h>

#include "eventstore/config/file_config_store.h"
#include "http/security/crypto.h"
#include "http/security/secret_file.h"

namespace jobtrail::http {
namespace {

constexpr std::string_view kPrefix = "jts1.";
constexpr size_t kMaxTokenBytes = 1024;

Error Invalid() {
  return MakeError(Code::kUnauthenticated, "INVALID_CREDENTIALS",
                   "the credentials are not valid");
}

}  // namespace

bool ShareTokens::LooksLikeShareToken(std::string_view token) {
  return token.substr(0, kPrefix.size()) == kPrefix;
}

std::string ShareTokens::Issue(std::string_view job_id, Millis expires_at) const {
  std::string signed_part =
      fmt::format("{}{}", kPrefix, Base64UrlEncode(fmt::format("{}\n{}", job_id, expires_at)));
  return fmt::format("{}.{}", signed_part, Base64UrlEncode(HmacSha256(secret_, signed_part)));
}

Result<std::string> ShareTokens::Verify(std::string_view token, Millis now) const {
  if (token.size() > kMaxTokenBytes || !LooksLikeShareToken(token)) return Invalid();
  const size_t dot = token.rfind('.');
  if (dot <= kPrefix.size()) return Invalid();
  const std::string_view signed_part = token.substr(0, dot);
  auto signature = Base64UrlDecode(token.substr(dot + 1));
  if (!signature || !ConstantTimeEquals(HmacSha256(secret_, signed_part), *signature)) {
    return Invalid();
  }
  auto payload = Base64UrlDecode(signed_part.substr(kPrefix.size()));
  if (!payload) return Invalid();
  const size_t nl = payload->find('\n');
  if (nl == std::string::npos || nl == 0) return Invalid();
  Millis expires_at = 0;
  try {
    size_t used = 0;
    expires_at = std::stoll(payload->substr(nl + 1), &used);
    if (used != payload->size() - nl - 1) return Invalid();
  } catch (const std::exception&) {
    return Invalid();
  }
  if (now >= expires_at) return Invalid();
  return payload->substr(0, nl);
}

Result<std::string> ShareTokens::LoadOrCreateSecret(const std::string& data_dir) {
  config::FileConfigStore files(data_dir);
  return LoadOrCreateSecret(files);
}

Result<std::string> ShareTokens::LoadOrCreateSecret(config::ConfigStore& store) {
  BOOST_OUTCOME_TRY(
      stored, store.Update(config::Doc::kShareKey,
                           [](const config::Snapshot& current)
                               -> Result<std::optional<std::string>> {
                             if (current.exists) return std::optional<std::string>();
                             auto bytes = RandomBytes(32);
                             if (!bytes) return Internal("the random generator failed");
                             return std::optional<std::string>(HexEncode(*bytes) + "\n");
                           }));
  std::string secret = std::move(stored.text);
  if (!secret.empty() && secret.back() == '\n') secret.pop_back();
  if (!secret.empty() && secret.back() == '\r') secret.pop_back();
  if (secret.empty()) {
    return InvalidArgument(fmt::format("{} is empty", store.Describe(config::Doc::kShareKey)));
  }
  return secret;
}

}  // namespace jobtrail::http

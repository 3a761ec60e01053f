#include "http/security/webhook_secret.h"

#include "http/security/crypto.h"

namespace jobtrail::http {

bool WebhookSecretMatches(std::string_view given, std::string_view expected) {
  if (expected.empty()) return false;
  return ConstantTimeEquals(Sha256(given), Sha256(expected));
}

bool WebhookHeaderMatches(const std::optional<std::string>& given, std::string_view expected) {
  // Hash something even when the header is missing: same work either way.
  return WebhookSecretMatches(given ? std::string_view(*given) : std::string_view(), expected) &&
         given.has_value();
}

bool WebhookSignatureMatches(const std::optional<std::string>& signature_hex,
                             std::string_view body, std::string_view secret) {
  if (!signature_hex || secret.empty()) return false;
  return ConstantTimeEquals(*signature_hex, HexEncode(HmacSha1(secret, body)));
}

}  // namespace jobtrail::http

#include "http/webhook_secret.h"

#include "http/crypto.h"

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

}  // namespace jobtrail::http

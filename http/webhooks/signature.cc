#include "http/webhooks/signature.h"

#include <fmt/format.h>

#include <charconv>
#include <filesystem>

#include "http/security/crypto.h"
#include "http/security/secret_file.h"

namespace jobtrail::webhooks {

std::string SignatureHeader(std::string_view secret, int64_t unix_seconds,
                            std::string_view body) {
  std::string signed_text = fmt::format("{}.", unix_seconds);
  signed_text.append(body);
  return fmt::format("t={},v1={}", unix_seconds,
                     http::HexEncode(http::HmacSha256(secret, signed_text)));
}

bool VerifySignatureHeader(std::string_view header, std::string_view secret,
                           std::string_view body, int64_t now_unix, int64_t tolerance_s) {
  std::optional<int64_t> t;
  std::vector<std::string_view> signatures;
  while (!header.empty()) {
    const size_t comma = header.find(',');
    std::string_view item = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    if (item.starts_with("t=")) {
      int64_t value = 0;
      auto [end, ec] = std::from_chars(item.data() + 2, item.data() + item.size(), value);
      if (ec != std::errc() || end != item.data() + item.size()) return false;
      t = value;
    } else if (item.starts_with("v1=")) {
      signatures.push_back(item.substr(3));
    }
  }
  if (!t || signatures.empty()) return false;
  if (*t < now_unix - tolerance_s || *t > now_unix + tolerance_s) return false;
  const std::string expected = SignatureHeader(secret, *t, body);
  const std::string_view expected_hex = std::string_view(expected).substr(expected.find("v1=") + 3);
  bool match = false;
  for (std::string_view s : signatures) match = http::ConstantTimeEquals(s, expected_hex) || match;
  return match;
}

Result<std::string> NewSecret() {
  auto bytes = http::RandomBytes(32);
  if (!bytes) return Internal("the random generator failed");
  return std::string(kSecretPrefix) + http::HexEncode(*bytes);
}

std::string CallbackSecret(std::string_view signing_key, std::string_view owner) {
  std::string input = "jobtrail-callback-secret";
  input.push_back('\0');
  input.append(owner);
  return std::string(kSecretPrefix) + http::HexEncode(http::HmacSha256(signing_key, input));
}

Result<std::string> LoadOrCreateSigningKey(const std::string& data_dir) {
  const std::string path = (std::filesystem::path(data_dir) / "webhook.key").string();
  auto existing = http::ReadSecretFile(path);
  if (existing) return std::move(existing).value();
  if (existing.error().code != Code::kNotFound) return existing.error();
  auto bytes = http::RandomBytes(32);
  if (!bytes) return Internal("the random generator failed");
  const std::string key = http::HexEncode(*bytes);
  BOOST_OUTCOME_TRYV(http::WriteFileAtomically(path, key + "\n", 0600));
  return key;
}

}  // namespace jobtrail::webhooks

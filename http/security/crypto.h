#pragma once
// The few cryptographic primitives the security layer needs, on OpenSSL:
// SHA-256, HMAC-SHA256, a CSPRNG, base64url (RFC 4648 §5, no padding), hex,
// and a constant-time comparison. Pure functions; thread-safe.
#include <optional>
#include <string>
#include <string_view>

namespace jobtrail::http {

// 32 raw bytes.
std::string Sha256(std::string_view data);
std::string HmacSha256(std::string_view key, std::string_view data);
// 20 raw bytes; only for checking signatures other services make with it
// (Vercel's x-vercel-signature).
std::string HmacSha1(std::string_view key, std::string_view data);

// `n` bytes from OpenSSL's CSPRNG; nullopt if it fails (never silently weak).
std::optional<std::string> RandomBytes(size_t n);

std::string Base64UrlEncode(std::string_view bytes);
// Standard base64 (RFC 4648 §4, padded), for bytes carried inside JSON.
std::string Base64Encode(std::string_view bytes);
// Standard base64, padding optional; nullopt on any byte outside the
// alphabet or a truncated last group.
std::optional<std::string> Base64Decode(std::string_view text);
// Accepts the unpadded URL-safe alphabet only; nullopt on anything else.
std::optional<std::string> Base64UrlDecode(std::string_view text);

std::string HexEncode(std::string_view bytes);
std::optional<std::string> HexDecode(std::string_view text);

// Equal contents, in time that depends only on the lengths (CRYPTO_memcmp).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace jobtrail::http

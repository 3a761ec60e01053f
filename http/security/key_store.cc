#include "http/security/key_store.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <filesystem>

#include <fmt/format.h>

#include "http/security/crypto.h"
#include "http/security/secret_file.h"

namespace jobtrail::http {
namespace {

constexpr std::string_view kPrefix = "jt_";
constexpr size_t kIdHexChars = 16;
constexpr size_t kSecretBytes = 32;
constexpr size_t kSaltBytes = 16;
constexpr size_t kMaxOwnerBytes = 256;

bool IsHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Error Malformed(const std::string& path, std::string_view what) {
  return DataLoss(fmt::format("{} is not a jobtrail keys file: {}", path, what));
}

}  // namespace

bool SplitApiKey(std::string_view key, std::string_view& id, std::string_view& secret) {
  if (key.size() != kPrefix.size() + kIdHexChars + 1 + 43) return false;
  if (key.substr(0, kPrefix.size()) != kPrefix) return false;
  id = key.substr(kPrefix.size(), kIdHexChars);
  if (!IsHex(id) || key[kPrefix.size() + kIdHexChars] != '_') return false;
  secret = key.substr(kPrefix.size() + kIdHexChars + 1);
  return true;
}

std::string KeyStore::PathIn(const std::string& data_dir) {
  return (std::filesystem::path(data_dir) / "keys.json").string();
}

Result<KeyStore> KeyStore::Load(const std::string& path) {
  auto text = ReadWholeFile(path);
  if (!text) {
    if (text.error().code == Code::kNotFound) return KeyStore(path);
    return text.error();
  }
  return Parse(path, text.value());
}

Result<KeyStore> KeyStore::Parse(const std::string& path, std::string_view text) {
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  if (doc.HasParseError() || !doc.IsObject()) return Malformed(path, "not a JSON object");
  auto version = doc.FindMember("version");
  if (version == doc.MemberEnd() || !version->value.IsInt() || version->value.GetInt() != 1) {
    return Malformed(path, "unknown version");
  }
  auto keys = doc.FindMember("keys");
  if (keys == doc.MemberEnd() || !keys->value.IsArray()) return Malformed(path, "no keys array");
  KeyStore store(path);
  for (const auto& k : keys->value.GetArray()) {
    if (!k.IsObject()) return Malformed(path, "a key is not an object");
    auto str = [&](const char* name, std::string& out) {
      auto it = k.FindMember(name);
      if (it == k.MemberEnd() || !it->value.IsString()) return false;
      out.assign(it->value.GetString(), it->value.GetStringLength());
      return true;
    };
    ApiKeyRecord r;
    std::string role, salt_hex, hash_hex;
    if (!str("id", r.id) || !str("role", role) || !str("owner", r.owner) ||
        !str("salt", salt_hex) || !str("hash", hash_hex)) {
      return Malformed(path, "a key lacks id, role, owner, salt or hash");
    }
    (void)str("label", r.label);  // optional
    if (r.id.size() != kIdHexChars || !IsHex(r.id)) return Malformed(path, "bad key id");
    if (!ParseRole(role, r.role)) return Malformed(path, "unknown role");
    auto salt = HexDecode(salt_hex);
    auto hash = HexDecode(hash_hex);
    if (!salt || !hash || hash->size() != 32) return Malformed(path, "bad salt or hash");
    r.salt = std::move(*salt);
    r.hash = std::move(*hash);
    auto created = k.FindMember("created_at");
    if (created != k.MemberEnd() && created->value.IsInt64()) r.created_at = created->value.GetInt64();
    auto revoked = k.FindMember("revoked_at");
    if (revoked != k.MemberEnd() && revoked->value.IsInt64()) r.revoked_at = revoked->value.GetInt64();
    store.keys_.push_back(std::move(r));
  }
  return store;
}

Result<KeyStore> KeyStore::FromSnapshot(const std::string& where, const config::Snapshot& snap) {
  if (!snap.exists) return KeyStore(where);
  return Parse(where, snap.text);
}

Result<KeyStore> KeyStore::Edit(config::ConfigStore& store,
                                const std::function<Result<void>(KeyStore&)>& edit) {
  const std::string where = store.Describe(config::Doc::kApiKeys);
  BOOST_OUTCOME_TRY(
      stored, store.Update(config::Doc::kApiKeys,
                           [&](const config::Snapshot& current)
                               -> Result<std::optional<std::string>> {
                             BOOST_OUTCOME_TRY(keys, FromSnapshot(where, current));
                             BOOST_OUTCOME_TRYV(edit(keys));
                             return std::optional<std::string>(keys.Serialize());
                           }));
  return FromSnapshot(where, stored);
}

Result<KeyStore::Created> KeyStore::Create(Role role, std::string owner, std::string label,
                                           Millis now) {
  if (owner.size() > kMaxOwnerBytes) return InvalidArgument("owner is longer than 256 bytes");
  for (unsigned char c : owner) {
    if (c < 0x20 || c == 0x7f) return InvalidArgument("owner has control characters");
  }
  auto id_bytes = RandomBytes(kIdHexChars / 2);
  auto secret_bytes = RandomBytes(kSecretBytes);
  auto salt = RandomBytes(kSaltBytes);
  if (!id_bytes || !secret_bytes || !salt) return Internal("the random generator failed");
  Created created;
  ApiKeyRecord& r = created.record;
  r.id = HexEncode(*id_bytes);
  for (const ApiKeyRecord& k : keys_) {
    if (k.id == r.id) return Internal("key id collision; try again");
  }
  r.role = role;
  r.owner = owner.empty() ? "key-" + r.id : std::move(owner);
  r.label = std::move(label);
  const std::string secret = Base64UrlEncode(*secret_bytes);
  r.salt = std::move(*salt);
  r.hash = HmacSha256(r.salt, secret);
  r.created_at = now;
  created.key = fmt::format("{}{}_{}", kPrefix, r.id, secret);
  keys_.push_back(r);
  return created;
}

Result<void> KeyStore::Revoke(std::string_view id, Millis now) {
  for (ApiKeyRecord& k : keys_) {
    if (k.id == id) {
      if (!k.revoked_at) k.revoked_at = now;
      return Ok();
    }
  }
  return NotFound("KEY_NOT_FOUND", fmt::format("no key with id '{}'", id));
}

const ApiKeyRecord* KeyStore::Verify(std::string_view presented) const {
  std::string_view id, secret;
  if (!SplitApiKey(presented, id, secret)) return nullptr;
  for (const ApiKeyRecord& k : keys_) {
    if (k.id != id) continue;
    // The id is not secret; the HMAC comparison is constant-time.
    const bool match = ConstantTimeEquals(HmacSha256(k.salt, secret), k.hash);
    return match && k.active() ? &k : nullptr;
  }
  return nullptr;
}

std::string KeyStore::Serialize() const {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("version");
  w.Int(1);
  w.Key("keys");
  w.StartArray();
  for (const ApiKeyRecord& k : keys_) {
    w.StartObject();
    auto str = [&](const char* name, const std::string& value) {
      w.Key(name);
      w.String(value.data(), rapidjson::SizeType(value.size()));
    };
    str("id", k.id);
    str("role", std::string(RoleName(k.role)));
    str("owner", k.owner);
    str("label", k.label);
    str("salt", HexEncode(k.salt));
    str("hash", HexEncode(k.hash));
    w.Key("created_at");
    w.Int64(k.created_at);
    w.Key("revoked_at");
    if (k.revoked_at) {
      w.Int64(*k.revoked_at);
    } else {
      w.Null();
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize()) + "\n";
}

Result<void> KeyStore::Save() const { return WriteFileAtomically(path_, Serialize(), 0600); }

}  // namespace jobtrail::http

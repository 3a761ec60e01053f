#pragma once
// KeyStore: jobtrail's API keys, in <data-dir>/keys.json — or, for nodes on
// a shared PostgreSQL log, the same document in the shared configuration
// (config/config_store.h: Doc::kApiKeys), which every node reads.
//
// A key is shown once, at creation: "jt_<id>_<secret>" (id: 16 hex digits,
// secret: 32 random bytes in base64url). The file keeps only the id, the
// role, the owner, a random 16-byte salt and HMAC-SHA256(salt, secret);
// a stolen keys.json does not give working keys. Revoked keys stay listed
// (with revoked_at) so an audit can still say whose key acted.
//
// File format (version 1):
//   {"version":1,"keys":[{"id","role","owner","label","salt","hash",
//                         "created_at":<ms>,"revoked_at":<ms>|null}]}
// Saved atomically (temp file, fsync, rename), mode 0600.
//
// Thread-compatible: a loaded KeyStore is a value; the server reloads a
// fresh one when the file changes (authenticator.h).
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "eventstore/config/config_store.h"
#include "domain/error.h"
#include "domain/job_event.h"
#include "http/server/principal.h"

namespace jobtrail::http {

struct ApiKeyRecord {
  std::string id;
  Role role = Role::kReader;
  std::string owner;  // the principal's subject
  std::string label;
  std::string salt;  // raw bytes
  std::string hash;  // raw HMAC-SHA256(salt, secret)
  Millis created_at = 0;
  std::optional<Millis> revoked_at;

  bool active() const { return !revoked_at.has_value(); }
};

class KeyStore {
 public:
  static std::string PathIn(const std::string& data_dir);  // <dir>/keys.json

  // An absent file is an empty store. Errors: kDataLoss (not a keys file),
  // kInternal (I/O).
  static Result<KeyStore> Load(const std::string& path);
  // Parses the file's text (exposed for tests and fuzzing).
  static Result<KeyStore> Parse(const std::string& path, std::string_view text);
  // From a configuration store's document (absent: an empty store; Save()
  // is not for these: change them with Edit). `where` names it in errors.
  static Result<KeyStore> FromSnapshot(const std::string& where, const config::Snapshot& snap);
  // Changes the keys document of `store` atomically: `edit` gets the keys as
  // stored and changes them (or fails, and nothing is written).
  static Result<KeyStore> Edit(config::ConfigStore& store,
                               const std::function<Result<void>(KeyStore&)>& edit);

  struct Created {
    ApiKeyRecord record;
    std::string key;  // "jt_<id>_<secret>": give it to the client, once
  };
  // Adds a key (owner empty: "key-<id>"). Call Save() to keep it.
  // Errors: kInvalidArgument (owner too long/invalid), kInternal (no RNG).
  Result<Created> Create(Role role, std::string owner, std::string label, Millis now);
  // Errors: kNotFound/KEY_NOT_FOUND; revoking twice is fine.
  Result<void> Revoke(std::string_view id, Millis now);
  Result<void> Save() const;

  // The active key whose full text is `presented`, or nullptr. Takes the
  // same time whatever part is wrong, as far as the secret goes.
  const ApiKeyRecord* Verify(std::string_view presented) const;

  const std::vector<ApiKeyRecord>& keys() const { return keys_; }
  const std::string& path() const { return path_; }

 private:
  explicit KeyStore(std::string path) : path_(std::move(path)) {}
  std::string Serialize() const;

  std::string path_;
  std::vector<ApiKeyRecord> keys_;
};

// Splits "jt_<id>_<secret>"; false if it is not shaped like a key.
bool SplitApiKey(std::string_view key, std::string_view& id, std::string_view& secret);

}  // namespace jobtrail::http

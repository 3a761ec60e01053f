#pragma once
// ConfigStore: where a node keeps the configuration that is not history —
// its API keys, its schedule definitions and its share-link key — so that
// the rest of the code does not know whether that is files in the data
// directory (one node, the embedded log: FileConfigStore) or PostgreSQL
// (several nodes on one shared log: config/postgres/PgConfigStore, where
// every node sees the same documents).
//
// Each piece is one document: text in the format its owner defines
// (http/security/key_store.h, projections/schedule_book.h, the share key
// as hex), read whole and changed whole by an atomic read-modify-write.
// The documents are small (keys and schedules number in the tens to
// hundreds) and rarely written, so whole-document updates under one lock
// keep the owners' formats, validation and tests unchanged on both backends.
//
// Secrets: the share key and the keys' salted hashes are in these texts;
// no implementation logs a document or puts one in an error message.
//
// Thread-safe.
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "domain/error.h"

namespace jobtrail::config {

enum class Doc {
  kApiKeys,    // keys.json
  kSchedules,  // schedules.json
  kShareKey,   // share.key
};
// The document's name in a shared store ("api_keys", "schedules", "share_key").
std::string_view DocName(Doc doc);

struct Snapshot {
  bool exists = false;
  std::string text;
  // Changes whenever the text may have changed (file: inode, size, mtime;
  // PostgreSQL: a counter bumped by every update). Empty: absent.
  std::string version;
};

class ConfigStore {
 public:
  virtual ~ConfigStore() = default;

  // Where `doc` lives, for messages ("/data/keys.json", "the shared
  // configuration in jobtrail@host:5432/jobs"). Never a secret.
  virtual std::string Describe(Doc doc) const = 0;
  // True when several nodes share these documents.
  virtual bool shared() const = 0;

  // Errors: kUnavailable/STORAGE_UNAVAILABLE (the store cannot be reached
  // or written now; try again), kInternal.
  virtual Result<Snapshot> Read(Doc doc) = 0;
  // Only the version: cheaper than Read, to learn whether a cached copy is
  // still current.
  virtual Result<std::string> Version(Doc doc) = 0;

  // Atomic read-modify-write: `change` sees the current document and
  // returns its new text, or nullopt to leave it as it is (or an error,
  // which is returned and changes nothing). Every Update of a document,
  // from any process or node on the same store, runs one at a time.
  // Returns the document as stored afterwards.
  using Change = std::function<Result<std::optional<std::string>>(const Snapshot& current)>;
  virtual Result<Snapshot> Update(Doc doc, const Change& change) = 0;
};

// kUnavailable/STORAGE_UNAVAILABLE: the configuration cannot be read or
// written now (a full disk, PostgreSQL unreachable). The cause is logged
// by the store, not put in the message.
Error ConfigUnavailable();

}  // namespace jobtrail::config

#pragma once
// The configuration shared by every node on one PostgreSQL log: one row per
// document in jobtrail_config (created by `jobtrail migrate`, schema
// version 2: eventstore/postgres/pg_schema.cc), so an API key created or
// revoked, a schedule put or deleted, and the share-link key are the same
// on every node.
//
//   jobtrail_config(name text PRIMARY KEY, body bytea, version bigint,
//                   updated_at timestamptz)
//
// Update is one transaction: make sure the row exists (INSERT ... ON
// CONFLICT DO NOTHING), lock it (SELECT ... FOR UPDATE), change, UPDATE
// with version + 1, COMMIT (always synchronously committed). Two nodes'
// updates of a document run one after the other and neither is lost.
// Version() is a one-row primary-key read: nodes learn of changes by
// re-checking it (config/cached_doc.h), not by a notification — see
// config/README.md for why.
//
// One connection, used one call at a time; a broken connection is
// reopened on the next call, and a read that failed on one is tried once
// more on a fresh one (an Update is not: its commit may have happened).
// PostgreSQL's messages go to the log (they never contain a document);
// callers get ConfigUnavailable().
#include <memory>
#include <mutex>
#include <string>

#include "eventstore/config/config_store.h"
#include "eventstore/postgres/pg_connection.h"

namespace jobtrail::config {

class PgConfigStore : public ConfigStore {
 public:
  // Does not connect yet. `url`: a postgresql:// URL (never logged).
  explicit PgConfigStore(std::string url);

  std::string Describe(Doc doc) const override;
  bool shared() const override { return true; }
  Result<Snapshot> Read(Doc doc) override;
  Result<std::string> Version(Doc doc) override;
  Result<Snapshot> Update(Doc doc, const Change& change) override;

 private:
  // Runs `call` on the connection (connecting first if needed).
  template <typename F>
  auto WithConnection(bool retry, F&& call) -> decltype(call(nullptr));
  Error Unavailable(const eventstore::StoreError& e, std::string_view what);

  std::string url_;
  std::string target_;  // user@host:port/db, for messages
  std::mutex mu_;
  eventstore::pg::Conn conn_;  // GUARDED_BY(mu_)
};

}  // namespace jobtrail::config

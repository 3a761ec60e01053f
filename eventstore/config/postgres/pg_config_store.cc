#include "eventstore/config/postgres/pg_config_store.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace jobtrail::config {
namespace pg = eventstore::pg;
namespace {

std::string VersionText(uint64_t v) { return v == 0 ? std::string() : std::to_string(v); }

// Runs a statement; the name is passed as text ($1), the body as bytea.
eventstore::StoreResult<pg::Result> Run(PGconn* conn, const char* sql, pg::Params* p,
                                        std::string_view what) {
  return pg::Exec(conn, sql, p, what);
}

Result<Snapshot> ToSnapshot(const PGresult* r) {
  Snapshot snap;
  if (PQntuples(r) == 0) return snap;
  const uint64_t version = pg::GetU64(r, 0, 1);
  if (version == 0) return snap;  // created by an Update that changed nothing
  snap.exists = true;
  snap.text = std::string(pg::GetBytes(r, 0, 0));
  snap.version = VersionText(version);
  return snap;
}

}  // namespace

PgConfigStore::PgConfigStore(std::string url)
    : url_(std::move(url)), target_(pg::DescribeTarget(url_)) {}

std::string PgConfigStore::Describe(Doc doc) const {
  return fmt::format("the shared configuration '{}' in {}", DocName(doc), target_);
}

Error PgConfigStore::Unavailable(const eventstore::StoreError& e, std::string_view what) {
  spdlog::error("shared configuration in {}: {}: {}", target_, what, e.message);
  return ConfigUnavailable();
}

template <typename F>
auto PgConfigStore::WithConnection(bool retry, F&& call) -> decltype(call(nullptr)) {
  std::lock_guard lock(mu_);
  for (int attempt = 0;; ++attempt) {
    if (!conn_ || PQstatus(conn_.get()) != CONNECTION_OK) {
      conn_.reset();
      auto conn = pg::Connect(url_, "jobtrail config");
      if (!conn) return Unavailable(conn.error(), "connecting");
      conn_ = std::move(conn).value();
    }
    auto result = call(conn_.get());
    const bool broken = PQstatus(conn_.get()) != CONNECTION_OK;
    if (broken) conn_.reset();
    if (result || !broken || !retry || attempt > 0) return result;
  }
}

Result<Snapshot> PgConfigStore::Read(Doc doc) {
  return WithConnection(true, [&](PGconn* conn) -> Result<Snapshot> {
    pg::Params p;
    p.Bytes(DocName(doc));
    auto r = Run(conn, "SELECT body, version FROM jobtrail_config WHERE name = $1",
                 &p, "reading a document");
    if (!r) return Unavailable(r.error(), "reading " + std::string(DocName(doc)));
    return ToSnapshot(r.value().get());
  });
}

Result<std::string> PgConfigStore::Version(Doc doc) {
  return WithConnection(true, [&](PGconn* conn) -> Result<std::string> {
    pg::Params p;
    p.Bytes(DocName(doc));
    auto r = Run(conn, "SELECT version FROM jobtrail_config WHERE name = $1", &p,
                 "reading a version");
    if (!r) return Unavailable(r.error(), "checking " + std::string(DocName(doc)));
    if (PQntuples(r.value().get()) == 0) return std::string();
    return VersionText(pg::GetU64(r.value().get(), 0, 0));
  });
}

Result<Snapshot> PgConfigStore::Update(Doc doc, const Change& change) {
  return WithConnection(false, [&](PGconn* conn) -> Result<Snapshot> {
    const std::string name(DocName(doc));
    auto step = [&](const char* sql, pg::Params* p, std::string_view what)
        -> Result<pg::Result> {
      auto r = Run(conn, sql, p, what);
      if (!r) return Unavailable(r.error(), fmt::format("updating {}: {}", name, what));
      return std::move(r).value();
    };
    auto rollback = [&] {
      pg::Result r(PQexec(conn, "ROLLBACK"));  // nothing was changed; its error adds nothing
    };
    BOOST_OUTCOME_TRYV(step("BEGIN ISOLATION LEVEL READ COMMITTED", nullptr, "BEGIN"));
    // Always committed synchronously: a change acknowledged is on disk
    // (whatever the log's --no-sync says).
    if (auto r = step("SET LOCAL synchronous_commit = on", nullptr, "SET"); !r) {
      rollback();
      return r.error();
    }
    pg::Params p;
    p.Bytes(name);
    if (auto r = step("INSERT INTO jobtrail_config (name, body, version) "
                      "VALUES ($1, '', 0) ON CONFLICT (name) DO NOTHING",
                      &p, "creating the row");
        !r) {
      rollback();
      return r.error();
    }
    auto locked = step("SELECT body, version FROM jobtrail_config "
                       "WHERE name = $1 FOR UPDATE",
                       &p, "locking the row");
    if (!locked) {
      rollback();
      return locked.error();
    }
    auto current = ToSnapshot(locked.value().get());
    if (!current) {
      rollback();
      return current.error();
    }
    auto text = change(current.value());
    if (!text || !text.value().has_value()) {
      rollback();  // an error, or nothing to change
      if (!text) return text.error();
      return current;
    }
    pg::Params u;
    u.Bytes(name).Bytes(*text.value());
    auto updated = step("UPDATE jobtrail_config SET body = $2, version = version + 1, "
                        "updated_at = now() WHERE name = $1 RETURNING body, version",
                        &u, "writing");
    if (!updated) {
      rollback();
      return updated.error();
    }
    BOOST_OUTCOME_TRYV(step("COMMIT", nullptr, "COMMIT"));
    return ToSnapshot(updated.value().get());
  });
}

}  // namespace jobtrail::config

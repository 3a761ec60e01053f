// The shared event log on the command line: `--log postgresql://...` for
// the store commands, and `jobtrail migrate`, which creates or upgrades the
// log's schema (eventstore/postgres/pg_schema.h), the shared configuration's
// table included. The URL may hold a
// password: it is never printed (prefer ~/.pgpass or PGPASSWORD).
#include <fmt/format.h>

#include <iostream>

#include "eventstore/config/file_config_store.h"
#include "eventstore/config/postgres/pg_config_store.h"
#include "eventstore/postgres/pg_connection.h"
#include "eventstore/postgres/pg_schema.h"
#include "eventstore/postgres/postgres_event_log.h"
#include "http/cli/commands.h"

namespace jobtrail::cli {

std::string CheckLogUrl(const std::string& url) {
  if (url.rfind("postgresql://", 0) != 0 && url.rfind("postgres://", 0) != 0) {
    return "--log wants a postgresql:// URL (the default log needs no flag)";
  }
  auto parsed = eventstore::pg::CheckConnString(url);
  return parsed ? "" : parsed.error().message;
}

std::shared_ptr<config::ConfigStore> ConfigFor(const std::string& log,
                                               const std::string& data_dir) {
  if (log.empty()) return std::make_shared<config::FileConfigStore>(data_dir);
  return std::make_shared<config::PgConfigStore>(log);
}

void UseSharedLog(const StoreFlags& flags, JobStoreOptions& options) {
  if (flags.log.empty()) return;
  options.config = ConfigFor(flags.log, flags.data_dir);
  options.open_log = [url = flags.log,
                      sync = !flags.no_sync]() -> eventstore::StoreResult<ExternalLog> {
    eventstore::PostgresEventLogOptions log_options;
    log_options.url = url;
    log_options.synchronous_commit = sync;
    BOOST_OUTCOME_TRY(log, eventstore::PostgresEventLog::Open(log_options));
    std::string identity = "postgresql:" + log->log_id();
    auto health = [raw = log.get()] {
      eventstore::StorageHealth h;
      if (!raw->Reachable()) {
        h.writable = false;
        h.reason = "no_primary";  // a stable word: readiness shows it to anyone
      }
      return h;
    };
    return ExternalLog{std::move(log), std::move(identity), std::move(health)};
  };
}

bool CheckSharedSchema(const std::string& log_url) {
  auto conn = eventstore::pg::Connect(log_url, "jobtrail");
  if (!conn) {
    std::cerr << "jobtrail: " << conn.error().message << "\n";
    return false;
  }
  auto checked =
      eventstore::pg::CheckSchema(conn.value().get(), eventstore::pg::DescribeTarget(log_url));
  if (!checked) {
    std::cerr << "jobtrail: " << checked.error().message << "\n";
    return false;
  }
  return true;
}

int Migrate(const std::string& log_url) {
  const std::string target = eventstore::pg::DescribeTarget(log_url);
  auto conn = eventstore::pg::Connect(log_url, "jobtrail migrate");
  if (!conn) {
    std::cerr << "jobtrail: " << conn.error().message << "\n";
    return 1;
  }
  auto report = eventstore::pg::Migrate(conn.value().get());
  if (!report) {
    std::cerr << "jobtrail: migrating " << target << " failed: " << report.error().message
              << "\n";
    return 1;
  }
  const auto& r = report.value();
  if (r.applied.empty()) {
    std::cout << fmt::format("{}: schema at version {}, nothing to do\n", target, r.to_version);
    return 0;
  }
  std::cout << fmt::format("{}: schema upgraded from version {} to {}\n", target, r.from_version,
                           r.to_version);
  for (const std::string& m : r.applied) std::cout << "  applied " << m << "\n";
  return 0;
}

}  // namespace jobtrail::cli

#include "tests/eventstore/postgres/pg_test_db.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <mutex>

#include "eventstore/postgres/pg_connection.h"
#include "eventstore/postgres/pg_schema.h"

namespace jobtrail::testing_pg {
namespace {

std::string RunSql(const std::string& url, const std::string& sql) {
  auto conn = eventstore::pg::Connect(url, "jobtrail test");
  if (!conn) return conn.error().message;
  eventstore::pg::Result r(PQexec(conn.value().get(), sql.c_str()));
  const ExecStatusType status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return eventstore::pg::Failure(conn.value().get(), r.get(), sql).message;
  }
  return "";
}

}  // namespace

const PgServer* TestServer(std::string* error) {
  static std::mutex mu;
  static std::unique_ptr<PgServer> server;
  static std::string failure;
  std::lock_guard lock(mu);
  if (server) return server.get();
  if (!failure.empty()) {
    *error = failure;
    return nullptr;
  }
  if (const char* state = std::getenv("JOBTRAIL_PG_FIXTURE"); state != nullptr && *state) {
    server = PgServer::Load(state, &failure);
  } else {
    server = PgServer::Start(&failure);  // stopped when the process exits
  }
  if (!server) {
    failure = "PostgreSQL is not available for this test: " + failure;
    *error = failure;
  }
  return server.get();
}

TestDatabase::TestDatabase(bool migrate) {
  std::string error;
  const PgServer* server = TestServer(&error);
  if (server == nullptr) {
    ADD_FAILURE() << error;
    return;
  }
  static std::atomic<int> counter{0};
  name_ = "jt_" + std::to_string(getpid()) + "_" + std::to_string(counter++);
  admin_url_ = server->Url("postgres");
  if (std::string e = RunSql(admin_url_, "CREATE DATABASE " + name_); !e.empty()) {
    ADD_FAILURE() << "creating the test database on " << admin_url_ << ": " << e;
    return;
  }
  const std::string url = server->Url(name_);
  if (migrate) {
    auto conn = eventstore::pg::Connect(url, "jobtrail test");
    if (!conn) {
      ADD_FAILURE() << conn.error().message;
      return;
    }
    auto migrated = eventstore::pg::Migrate(conn.value().get());
    if (!migrated) {
      ADD_FAILURE() << "migrate: " << migrated.error().message;
      return;
    }
  }
  url_ = url;
}

TestDatabase::~TestDatabase() {
  if (name_.empty() || admin_url_.empty()) return;
  const std::string e = RunSql(admin_url_, "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  EXPECT_EQ(e, "") << "dropping the test database";
}

std::string TestDatabase::Sql(const std::string& sql) const { return RunSql(url_, sql); }

}  // namespace jobtrail::testing_pg

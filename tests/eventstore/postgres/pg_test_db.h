#pragma once
// One test's own database on the tests' PostgreSQL (pg_server.h), created
// fresh (and migrated to the jobtrail schema, unless asked not to) and
// dropped at the end, so tests never see each other's events.
#include <string>

#include "tests/eventstore/postgres/pg_server.h"

namespace jobtrail::testing_pg {

// The server for this process: the ctest fixture's, or one started now.
// Null (with *error set) if there is none.
const PgServer* TestServer(std::string* error);

class TestDatabase {
 public:
  // Records a test failure (never a skip) if the server or the database is
  // not there; ok() says whether the test can go on.
  explicit TestDatabase(bool migrate = true);
  ~TestDatabase();
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  bool ok() const { return !url_.empty(); }
  const std::string& url() const { return url_; }
  const std::string& name() const { return name_; }
  // Runs SQL on the database as the superuser; returns "" or the error.
  std::string Sql(const std::string& sql) const;

 private:
  std::string name_;
  std::string url_;
  std::string admin_url_;
};

}  // namespace jobtrail::testing_pg

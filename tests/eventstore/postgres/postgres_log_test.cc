// PostgresEventLog beyond the shared contract: the schema and its
// migrations, connection errors (never showing a password), the hash chain
// verified after tampering in SQL, wake-ups by NOTIFY between two log
// objects (two nodes), the group commit, and recovery from connections the
// server cut.
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <thread>

#include "eventstore/log_verifier.h"
#include "eventstore/postgres/pg_connection.h"
#include "eventstore/postgres/pg_schema.h"
#include "eventstore/postgres/postgres_event_log.h"
#include "tests/eventstore/postgres/pg_test_db.h"
#include "tests/eventstore/test_util.h"

namespace jobtrail::eventstore {
namespace {

using namespace std::chrono_literals;
using testing_pg::TestDatabase;
using testing_util::Events;

std::unique_ptr<PostgresEventLog> OpenPg(const std::string& url) {
  PostgresEventLogOptions options;
  options.url = url;
  auto log = PostgresEventLog::Open(options);
  EXPECT_TRUE(log) << log.error().message;
  return log ? std::move(log).value() : nullptr;
}

pg::Conn Connect(const std::string& url) {
  auto conn = pg::Connect(url, "jobtrail test");
  EXPECT_TRUE(conn) << conn.error().message;
  return conn ? std::move(conn).value() : nullptr;
}

std::chrono::steady_clock::time_point In(std::chrono::seconds s) {
  return std::chrono::steady_clock::now() + s;
}

TEST(PostgresSchemaTest, MigrateCreatesTheSchemaOnceAndOpenNeedsIt) {
  TestDatabase db(/*migrate=*/false);
  ASSERT_TRUE(db.ok());
  PostgresEventLogOptions options;
  options.url = db.url();
  auto unmigrated = PostgresEventLog::Open(options);
  ASSERT_FALSE(unmigrated);
  EXPECT_EQ(unmigrated.error().code, StoreCode::kNotFound);
  EXPECT_NE(unmigrated.error().message.find("jobtrail migrate"), std::string::npos)
      << unmigrated.error().message;

  // Two migrations at once: one creates, the other finds nothing to do.
  StoreResult<pg::MigrateReport> reports[2] = {StoreError{}, StoreError{}};
  std::thread threads[2];
  for (int i = 0; i < 2; ++i) {
    threads[i] = std::thread([&, i] {
      pg::Conn conn = Connect(db.url());
      if (conn) reports[i] = pg::Migrate(conn.get());
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE(reports[0]) << reports[0].error().message;
  ASSERT_TRUE(reports[1]) << reports[1].error().message;
  // One of them applied every migration, the other found nothing to do.
  EXPECT_EQ(reports[0].value().applied.size() + reports[1].value().applied.size(),
            size_t(pg::kSchemaVersion));
  EXPECT_TRUE(reports[0].value().applied.empty() || reports[1].value().applied.empty());
  for (const auto& r : reports) EXPECT_EQ(r.value().to_version, pg::kSchemaVersion);

  pg::Conn conn = Connect(db.url());
  ASSERT_TRUE(conn);
  auto again = pg::Migrate(conn.get());
  ASSERT_TRUE(again);
  EXPECT_EQ(again.value().from_version, pg::kSchemaVersion);
  EXPECT_TRUE(again.value().applied.empty());
  EXPECT_EQ(pg::SchemaVersion(conn.get()).value(), pg::kSchemaVersion);

  auto log = OpenPg(db.url());
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->LastPosition(), 0u);
  EXPECT_EQ(log->log_id().size(), 36u) << log->log_id();  // a UUID
  ASSERT_TRUE(log->Append("a", kNoStream, Events("a", 2)));
}

TEST(PostgresSchemaTest, ANewerSchemaIsRefusedByOpenAndMigrate) {
  TestDatabase db;
  ASSERT_TRUE(db.ok());
  ASSERT_EQ(db.Sql("INSERT INTO jobtrail_schema_migrations (version, name) VALUES (99, 'x')"),
            "");
  PostgresEventLogOptions options;
  options.url = db.url();
  auto opened = PostgresEventLog::Open(options);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, StoreCode::kInvalidArgument);
  EXPECT_NE(opened.error().message.find("newer"), std::string::npos) << opened.error().message;
  pg::Conn conn = Connect(db.url());
  ASSERT_TRUE(conn);
  auto migrated = pg::Migrate(conn.get());
  ASSERT_FALSE(migrated);
  EXPECT_EQ(migrated.error().code, StoreCode::kInvalidArgument);
}

TEST(PostgresOpenTest, ErrorsAreClearAndNeverShowThePassword) {
  PostgresEventLogOptions options;
  options.url = "postgresql://user:s3cretpw@127.0.0.1:notaport/db";
  auto bad = PostgresEventLog::Open(options);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message.find("s3cretpw"), std::string::npos) << bad.error().message;

  // Port 1 on loopback: nothing listens there.
  options.url = "postgresql://user:s3cretpw@127.0.0.1:1/db?connect_timeout=5";
  auto unreachable = PostgresEventLog::Open(options);
  ASSERT_FALSE(unreachable);
  EXPECT_EQ(unreachable.error().code, StoreCode::kUnavailable);
  EXPECT_NE(unreachable.error().message.find("user@127.0.0.1:1/db"), std::string::npos)
      << unreachable.error().message;
  EXPECT_EQ(unreachable.error().message.find("s3cretpw"), std::string::npos)
      << unreachable.error().message;

  EXPECT_FALSE(pg::CheckConnString("postgresql://jobtrail@host/db?no_such_setting=1"));
  EXPECT_TRUE(pg::CheckConnString("postgresql://jobtrail@127.0.0.1:5432/jobs"));
}

// The chain is kept in the table: rewriting a row's data or deleting a row
// behind the log's back is found by VerifyLog, as on RocksDB.
TEST(PostgresVerifyTest, TamperingInSqlBreaksTheChain) {
  TestDatabase db;
  ASSERT_TRUE(db.ok());
  auto log = OpenPg(db.url());
  ASSERT_NE(log, nullptr);
  ASSERT_TRUE(log->Append("a", kNoStream, Events("a", 3)));
  ASSERT_TRUE(log->Append("b", kNoStream, Events("b", 2)));
  auto clean = VerifyLog(*log, nullptr, nullptr);
  ASSERT_TRUE(clean);
  EXPECT_TRUE(clean.value().ok());
  EXPECT_EQ(clean.value().events, 5u);

  ASSERT_EQ(db.Sql("UPDATE jobtrail_events SET data = 'forged' WHERE position = 2"), "");
  auto forged = VerifyLog(*log, nullptr, nullptr);
  ASSERT_TRUE(forged);
  ASSERT_FALSE(forged.value().ok());
  EXPECT_NE(forged.value().problems.front().find("position 2: hash chain broken"),
            std::string::npos)
      << forged.value().problems.front();

  ASSERT_EQ(db.Sql("DELETE FROM jobtrail_events WHERE position = 4"), "");
  auto removed = VerifyLog(*log, nullptr, nullptr);
  ASSERT_TRUE(removed);
  bool missing = false;
  for (const auto& p : removed.value().problems) {
    missing = missing || p.find("events are missing") != std::string::npos;
  }
  EXPECT_TRUE(missing);
}

// Two log objects on one database are two nodes: a commit through one
// wakes a waiter on the other by NOTIFY (the waiter never reads itself).
TEST(PostgresNotifyTest, ACommitOnOneNodeWakesTheOther) {
  TestDatabase db;
  ASSERT_TRUE(db.ok());
  auto writer = OpenPg(db.url());
  auto reader = OpenPg(db.url());
  ASSERT_TRUE(writer && reader);
  ASSERT_TRUE(reader->WaitListening(In(60s)));
  ASSERT_TRUE(writer->Append("a", kNoStream, Events("a", 3)));
  EXPECT_EQ(reader->WaitForHeadAfter(0, In(60s), nullptr), 3u);

  // A subscription on the reader follows the writer's commits.
  auto sub = reader->Subscribe(3);
  std::thread append([&] { ASSERT_TRUE(writer->Append("a", 3, Events("more", 2))); });
  std::vector<StoredEvent> seen;
  while (seen.size() < 2) {
    auto next = sub->Next(10, 60s);
    ASSERT_TRUE(next) << next.error().message;
    ASSERT_FALSE(next.value().empty()) << "no wake-up";
    seen.insert(seen.end(), next.value().begin(), next.value().end());
  }
  append.join();
  EXPECT_EQ(seen.front().position, 4u);
  EXPECT_EQ(seen.back().position, 5u);
}

// Appends that queue while the writer is stuck in a transaction (here: the
// head row locked by the test) are committed together, in one transaction.
TEST(PostgresGroupCommitTest, AppendsQueuedBehindABusyWriterShareOneTransaction) {
  TestDatabase db;
  ASSERT_TRUE(db.ok());
  auto log = OpenPg(db.url());
  ASSERT_NE(log, nullptr);
  pg::Conn blocker = Connect(db.url());
  ASSERT_TRUE(blocker);
  ASSERT_TRUE(pg::Exec(blocker.get(), "BEGIN", nullptr, "begin"));
  ASSERT_TRUE(pg::Exec(blocker.get(), "SELECT 1 FROM jobtrail_log_head FOR UPDATE", nullptr,
                       "lock"));
  const uint64_t commits_before = log->Commits();
  StoreResult<AppendResult> first = StoreError{};
  std::thread leader([&] { first = log->Append("first", kNoStream, Events("f", 1)); });
  // Taken by the writer (and stuck on the head's lock), not only queued:
  // a writer slow to wake would otherwise take the followers with it.
  while (log->InFlightAppends() != 1) std::this_thread::yield();

  constexpr int kFollowers = 12;
  std::vector<StoreResult<AppendResult>> results(kFollowers, StoreError{});
  std::vector<std::thread> followers;
  for (int i = 0; i < kFollowers; ++i) {
    followers.emplace_back([&, i] {
      results[i] = log->Append("s" + std::to_string(i), kNoStream,
                               Events("e" + std::to_string(i), 2));
    });
  }
  while (log->PendingAppends() != kFollowers + 1) std::this_thread::yield();
  ASSERT_TRUE(pg::Exec(blocker.get(), "ROLLBACK", nullptr, "rollback"));
  leader.join();
  for (auto& t : followers) t.join();

  ASSERT_TRUE(first) << first.error().message;
  for (auto& r : results) ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(log->Commits() - commits_before, 2u);  // the leader's, then all the rest
  EXPECT_EQ(log->LastPosition(), 1u + 2 * kFollowers);
  auto report = VerifyLog(*log, nullptr, nullptr);
  ASSERT_TRUE(report);
  EXPECT_TRUE(report.value().ok());
}

// The server cuts every connection of the log (as a restart or failover
// would): the next append, read and subscription go on, on new connections.
TEST(PostgresReconnectTest, AppendsReadsAndWakeUpsSurviveCutConnections) {
  TestDatabase db;
  ASSERT_TRUE(db.ok());
  auto log = OpenPg(db.url());
  auto follower = OpenPg(db.url());
  ASSERT_TRUE(log && follower);
  ASSERT_TRUE(log->Append("a", kNoStream, Events("a", 2)));
  ASSERT_TRUE(follower->WaitListening(In(60s)));
  auto sub = follower->Subscribe(0);
  auto first = sub->Next(10, 60s);
  ASSERT_TRUE(first);
  ASSERT_EQ(first.value().size(), 2u);

  ASSERT_EQ(db.Sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" +
                   db.name() + "' AND pid <> pg_backend_pid()"),
            "");
  auto appended = log->Append("a", 2, Events("b", 1));
  ASSERT_TRUE(appended) << appended.error().message;
  EXPECT_EQ(appended.value().first_position, 3u);
  auto read = log->ReadStream("a", 1, 10);
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(read.value().size(), 3u);
  auto next = sub->Next(10, 60s);
  ASSERT_TRUE(next) << next.error().message;
  ASSERT_EQ(next.value().size(), 1u);
  EXPECT_EQ(next.value()[0].position, 3u);
}

TEST(PostgresDurabilityTest, AsynchronousCommitStillAppendsAndReads) {
  TestDatabase db;
  ASSERT_TRUE(db.ok());
  PostgresEventLogOptions options;
  options.url = db.url();
  options.synchronous_commit = false;
  auto log = PostgresEventLog::Open(options);
  ASSERT_TRUE(log) << log.error().message;
  ASSERT_TRUE(log.value()->Append("a", kNoStream, Events("a", 3)));
  auto all = log.value()->ReadAll(1, 10);
  ASSERT_TRUE(all);
  EXPECT_EQ(all.value().size(), 3u);
}

}  // namespace
}  // namespace jobtrail::eventstore

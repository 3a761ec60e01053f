// The global order under concurrent transactions. Positions are taken under
// the head row's lock, so a transaction that took position N commits before
// any transaction can take N+1: a follower reading `position > cursor`
// never skips an event that commits late. Tested with several nodes (log
// objects, each its own writer connection) appending at once while another
// node follows, and with a transaction held open on purpose.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "eventstore/hash_chain.h"
#include "eventstore/log_verifier.h"
#include "eventstore/postgres/pg_connection.h"
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

TEST(PostgresOrderTest, AFollowerSeesEveryPositionOnceInOrderWhileNodesAppend) {
  TestDatabase db;
  ASSERT_TRUE(db.ok());
  constexpr int kNodes = 3;
  constexpr int kThreadsPerNode = 4;
  constexpr int kRounds = 40;
  std::vector<std::unique_ptr<PostgresEventLog>> nodes;
  for (int n = 0; n < kNodes; ++n) {
    nodes.push_back(OpenPg(db.url()));
    ASSERT_NE(nodes.back(), nullptr);
  }
  auto follower_log = OpenPg(db.url());
  ASSERT_NE(follower_log, nullptr);

  std::mutex mu;
  std::map<uint64_t, std::string> acknowledged;  // position -> event id
  std::atomic<int> writers_left{kNodes * kThreadsPerNode};
  std::vector<std::thread> writers;
  for (int n = 0; n < kNodes; ++n) {
    for (int t = 0; t < kThreadsPerNode; ++t) {
      writers.emplace_back([&, n, t] {
        struct Done {  // counts the writer out even if an assertion ends it
          std::atomic<int>& left;
          ~Done() { --left; }
        } done_guard{writers_left};
        const std::string tag = std::to_string(n) + "-" + std::to_string(t);
        for (int i = 0; i < kRounds; ++i) {
          const std::string id = tag + "-" + std::to_string(i);
          std::vector<std::pair<std::string, StoreResult<AppendResult>>> done;
          if (i % 3 == 0) {  // two jobs at once, as a batch would
            std::vector<StreamAppend> parts = {{"x" + id, kNoStream, Events("x" + id, 2)},
                                               {"y" + id, kNoStream, Events("y" + id, 1)}};
            auto results = nodes[n]->AppendMany(parts);
            done.emplace_back("x" + id, std::move(results[0]));
            done.emplace_back("y" + id, std::move(results[1]));
          } else {
            done.emplace_back("s" + id, nodes[n]->Append("s" + id, kNoStream, Events("s" + id, 1)));
          }
          std::lock_guard lock(mu);
          for (auto& [prefix, r] : done) {
            ASSERT_TRUE(r) << r.error().message;
            for (uint64_t p = r.value().first_position; p <= r.value().last_position; ++p) {
              acknowledged[p] = prefix + "-" + std::to_string(p - r.value().first_position);
            }
          }
        }
      });
    }
  }

  // Follows while the writers run, and until it has every acknowledged event.
  auto sub = follower_log->Subscribe(0);
  std::vector<StoredEvent> seen;
  for (;;) {
    auto next = sub->Next(64, 200ms);
    ASSERT_TRUE(next) << next.error().message;
    for (auto& e : next.value()) {
      ASSERT_EQ(e.position, seen.size() + 1) << "skipped or repeated a position";
      seen.push_back(std::move(e));
    }
    if (writers_left.load() == 0 && next.value().empty()) {
      std::lock_guard lock(mu);
      if (seen.size() >= acknowledged.size()) break;
    }
  }
  for (auto& w : writers) w.join();
  ASSERT_EQ(seen.size(), acknowledged.size());
  for (const StoredEvent& e : seen) ASSERT_EQ(e.event_id, acknowledged[e.position]);
  // Every node's commits went into one chain.
  auto report = VerifyLog(*follower_log, nullptr, nullptr);
  ASSERT_TRUE(report);
  EXPECT_TRUE(report.value().ok()) << report.value().problems.front();
  EXPECT_EQ(report.value().events, acknowledged.size());
}

// A transaction that took the next position and has not committed (the
// test plays that writer in SQL) holds every other node back: the node's
// append waits on the head's lock, the follower sees nothing past the head,
// and after the slow commit both events arrive in position order.
TEST(PostgresOrderTest, AnAppendWaitsForTheTransactionThatTookTheEarlierPosition) {
  TestDatabase db;
  ASSERT_TRUE(db.ok());
  auto node = OpenPg(db.url());
  auto follower = OpenPg(db.url());
  ASSERT_TRUE(node && follower);
  ASSERT_TRUE(node->Append("a", kNoStream, Events("a", 1)));

  auto slow = pg::Connect(db.url(), "slow writer");
  ASSERT_TRUE(slow) << slow.error().message;
  PGconn* c = slow.value().get();
  ASSERT_TRUE(pg::Exec(c, "BEGIN", nullptr, "begin"));
  auto head = pg::Exec(c, "SELECT position, hash FROM jobtrail_log_head FOR UPDATE", nullptr,
                       "lock");
  ASSERT_TRUE(head);
  StoredEvent late{pg::GetU64(head.value().get(), 0, 0) + 1, "late", 1, "late-0", "late data",
                   ""};
  late.hash = ChainHash(std::string(pg::GetBytes(head.value().get(), 0, 1)), late);
  pg::Params row;
  row.Int8(late.position).Bytes(late.stream).Bytes(late.event_id).Bytes(late.data)
      .Bytes(late.hash);
  ASSERT_TRUE(pg::Exec(c,
                       "INSERT INTO jobtrail_events VALUES ($1::int8, $2::bytea, 1, $3::bytea,"
                       " 0, 1, $4::bytea, $5::bytea)",
                       &row, "insert"));
  pg::Params new_head;
  new_head.Int8(late.position).Bytes(late.hash);
  ASSERT_TRUE(pg::Exec(c, "UPDATE jobtrail_log_head SET position = $1::int8, hash = $2::bytea",
                       &new_head, "head"));

  StoreResult<AppendResult> appended = StoreError{};
  std::thread appender([&] { appended = node->Append("b", kNoStream, Events("b", 1)); });
  // Wait (on the server's own report, not on time) until the node's writer
  // is blocked on the lock the slow transaction holds.
  for (;;) {
    auto waiting = pg::Exec(c,
                            "SELECT count(*)::int8 FROM pg_stat_activity WHERE datname ="
                            " current_database() AND application_name = 'jobtrail writer'"
                            " AND wait_event_type = 'Lock'",
                            nullptr, "pg_stat_activity");
    ASSERT_TRUE(waiting);
    if (pg::GetU64(waiting.value().get(), 0, 0) > 0) break;
    std::this_thread::yield();
  }
  auto sub = follower->Subscribe(1);
  auto before = sub->Next(10, 0ms);
  ASSERT_TRUE(before);
  EXPECT_TRUE(before.value().empty()) << "an uncommitted position is visible";
  EXPECT_EQ(node->PendingAppends(), 1u);

  ASSERT_TRUE(pg::Exec(c, "COMMIT", nullptr, "commit"));
  appender.join();
  ASSERT_TRUE(appended) << appended.error().message;
  EXPECT_EQ(appended.value().first_position, 3u);

  std::vector<StoredEvent> after;
  while (after.size() < 2) {
    auto next = sub->Next(10, 60s);
    ASSERT_TRUE(next);
    ASSERT_FALSE(next.value().empty());
    after.insert(after.end(), next.value().begin(), next.value().end());
  }
  EXPECT_EQ(after[0].event_id, "late-0");
  EXPECT_EQ(after[0].position, 2u);
  EXPECT_EQ(after[1].event_id, "b-0");
  EXPECT_EQ(after[1].position, 3u);
  auto report = VerifyLog(*follower, nullptr, nullptr);
  ASSERT_TRUE(report);
  EXPECT_TRUE(report.value().ok()) << report.value().problems.front();
}

}  // namespace
}  // namespace jobtrail::eventstore

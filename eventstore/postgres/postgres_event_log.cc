// PostgresEventLog: opening, reads and subscriptions. The write path (the
// group commit) is in postgres_event_log_append.cc.
#include "eventstore/postgres/postgres_event_log.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "eventstore/postgres/pg_connection.h"
#include "eventstore/postgres/pg_listener.h"
#include "eventstore/postgres/pg_pool.h"
#include "eventstore/postgres/pg_schema.h"
#include "eventstore/postgres/postgres_event_log_internal.h"

namespace jobtrail::eventstore {
using pg_internal::ConnectionPool;

namespace pg_internal {

std::vector<StoredEvent> EventsOf(const PGresult* r) {
  std::vector<StoredEvent> out;
  const int rows = PQntuples(r);
  out.reserve(size_t(rows));
  for (int i = 0; i < rows; ++i) {
    StoredEvent& e = out.emplace_back();
    e.position = pg::GetU64(r, i, 0);
    e.stream = pg::GetBytes(r, i, 1);
    e.version = pg::GetU64(r, i, 2);
    e.event_id = pg::GetBytes(r, i, 3);
    e.data = pg::GetBytes(r, i, 4);
    e.hash = pg::GetBytes(r, i, 5);
  }
  return out;
}

}  // namespace pg_internal

namespace {

// LIMIT takes a signed 64-bit count.
uint64_t Limit(size_t max_count) {
  return std::min<uint64_t>(max_count, uint64_t(std::numeric_limits<int64_t>::max()));
}


// A commit is visible to the primary's other sessions as soon as it is
// flushed there, before a synchronous standby has confirmed it (its own
// session still waits). A node that projected such an event and then saw
// the primary die would keep it in its read models while the promoted
// standby gives that position to another event: an acknowledged job
// missing on that node, a phantom one in its place (PatroniFailoverTest
// caught it under load). So the rows are read in a transaction that then
// takes a transaction id and commits: with synchronous_commit on, that
// COMMIT returns only once the standbys have flushed WAL past its own
// commit record, hence past every row it read. Without synchronous
// standbys no id is taken (the COMMIT writes nothing); on an empty read
// nothing needs confirming.
StoreResult<std::vector<StoredEvent>> ReadAllDurable(PGconn* conn, uint64_t from_position,
                                                     size_t max_count, bool durable) {
  pg::Params p;
  p.Int8(std::max<uint64_t>(from_position, 1)).Int8(Limit(max_count));
  if (!durable) {
    BOOST_OUTCOME_TRY(r, pg::ExecPrepared(conn, pg_internal::kReadAll, &p, "reading the log"));
    return pg_internal::EventsOf(r.get());
  }
  BOOST_OUTCOME_TRYV(pg::Exec(conn, "BEGIN", nullptr, "reading the log"));
  BOOST_OUTCOME_TRY(r, pg::ExecPrepared(conn, pg_internal::kReadAll, &p, "reading the log"));
  std::vector<StoredEvent> events = pg_internal::EventsOf(r.get());
  if (!events.empty()) {
    // Only with synchronous standbys (Patroni sets them on the primary):
    // without, the id would only cost a WAL flush on the server.
    BOOST_OUTCOME_TRYV(pg::Exec(conn,
                                "SELECT CASE WHEN current_setting('synchronous_standby_names') "
                                "<> '' THEN txid_current() END",
                                nullptr, "confirming a read of the log"));
  }
  BOOST_OUTCOME_TRYV(pg::Exec(conn, "COMMIT", nullptr, "confirming a read of the log"));
  return events;
}

}  // namespace

PostgresEventLog::PostgresEventLog() = default;

StoreResult<std::unique_ptr<PostgresEventLog>> PostgresEventLog::Open(
    const PostgresEventLogOptions& options) {
  BOOST_OUTCOME_TRY(pg::CheckConnString(options.url));
  std::unique_ptr<PostgresEventLog> log(new PostgresEventLog());
  log->options_ = options;
  log->target_ = pg::DescribeTarget(options.url);
  {
    // The schema first: the pool's connections prepare statements on it.
    BOOST_OUTCOME_TRY(conn, pg::Connect(options.url, "jobtrail"));
    BOOST_OUTCOME_TRY(pg::CheckSchema(conn.get(), log->target_));
  }
  log->readers_ = std::make_unique<ConnectionPool>(options.url, options.max_read_connections);
  BOOST_OUTCOME_TRY(head, log->readers_->Run<std::pair<uint64_t, std::string>>(
                              [&](PGconn* conn) -> StoreResult<std::pair<uint64_t, std::string>> {
                                BOOST_OUTCOME_TRY(r, pg::ExecPrepared(conn, pg_internal::kReadHead,
                                                                      nullptr, "reading the head"));
                                if (PQntuples(r.get()) != 1) {
                                  return StoreError{StoreCode::kCorruption,
                                                    "jobtrail_log_head must hold one row", 0};
                                }
                                return std::pair{pg::GetU64(r.get(), 0, 0),
                                                 std::string(pg::GetBytes(r.get(), 0, 1))};
                              }));
  log->head_.store(head.first);
  log->log_id_ = head.second;
  BOOST_OUTCOME_TRY(log->Start());
  return log;
}

PostgresEventLog::~PostgresEventLog() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  writer_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  listener_.reset();
  WakeWaiters();
}

bool PostgresEventLog::WaitListening(std::chrono::steady_clock::time_point deadline) {
  return listener_ != nullptr && listener_->WaitListening(deadline);
}

bool PostgresEventLog::Reachable() const {
  return !lost_server_.load() && listener_ != nullptr && !listener_->lost();
}

void PostgresEventLog::NoteOutcome(const StoreError* error) {
  if (error == nullptr) {
    lost_server_.store(false);
  } else if (error->code == StoreCode::kUnavailable) {
    lost_server_.store(true);
  }
}

StoreResult<uint64_t> PostgresEventLog::RefreshHead() {
  BOOST_OUTCOME_TRY(head, Noted(readers_->Run<uint64_t>([](PGconn* conn) -> StoreResult<uint64_t> {
    BOOST_OUTCOME_TRY(r, pg::ExecPrepared(conn, pg_internal::kReadHead, nullptr,
                                          "reading the head"));
    if (PQntuples(r.get()) != 1) {
      return StoreError{StoreCode::kCorruption, "jobtrail_log_head must hold one row", 0};
    }
    return pg::GetU64(r.get(), 0, 0);
  })));
  NoteCommitted(head);
  return head_.load();
}

void PostgresEventLog::NoteCommitted(uint64_t position) {
  uint64_t known = head_.load();
  bool raised = false;
  while (position > known) {
    if (head_.compare_exchange_weak(known, position)) {
      raised = true;
      break;
    }
  }
  if (raised) WakeWaiters();
}

uint64_t PostgresEventLog::WaitForHeadAfter(uint64_t position,
                                            std::chrono::steady_clock::time_point deadline,
                                            const std::atomic<bool>* cancelled) {
  std::unique_lock lock(head_mu_);
  head_cv_.wait_until(lock, deadline, [&] {
    return head_.load() > position || (cancelled != nullptr && cancelled->load());
  });
  return head_.load();
}

void PostgresEventLog::WakeWaiters() {
  { std::lock_guard lock(head_mu_); }
  head_cv_.notify_all();
}

StoreResult<std::vector<StoredEvent>> PostgresEventLog::ReadStream(std::string_view stream,
                                                                   uint64_t from_version,
                                                                   size_t max_count) {
  if (max_count == 0) return std::vector<StoredEvent>{};
  return Noted(readers_->Run<std::vector<StoredEvent>>(
      [&](PGconn* conn) -> StoreResult<std::vector<StoredEvent>> {
        pg::Params p;
        p.Bytes(stream).Int8(std::max<uint64_t>(from_version, 1)).Int8(Limit(max_count));
        BOOST_OUTCOME_TRY(r, pg::ExecPrepared(conn, pg_internal::kReadStream, &p,
                                              "reading a stream"));
        return pg_internal::EventsOf(r.get());
      }));
}

StoreResult<uint64_t> PostgresEventLog::StreamVersion(std::string_view stream) {
  return Noted(readers_->Run<uint64_t>([&](PGconn* conn) -> StoreResult<uint64_t> {
    pg::Params p;
    p.Bytes(stream);
    BOOST_OUTCOME_TRY(r, pg::ExecPrepared(conn, pg_internal::kStreamVersion, &p,
                                          "reading a stream's version"));
    return PQntuples(r.get()) == 0 ? uint64_t{0} : pg::GetU64(r.get(), 0, 0);
  }));
}

StoreResult<std::vector<StoredEvent>> PostgresEventLog::ReadAll(uint64_t from_position,
                                                                size_t max_count) {
  if (max_count == 0) return std::vector<StoredEvent>{};
  const bool durable = options_.synchronous_commit;
  BOOST_OUTCOME_TRY(events, Noted(readers_->Run<std::vector<StoredEvent>>(
                                [&](PGconn* conn) -> StoreResult<std::vector<StoredEvent>> {
                                  auto read = ReadAllDurable(conn, from_position, max_count,
                                                             durable);
                                  if (!read && PQstatus(conn) == CONNECTION_OK &&
                                      PQtransactionStatus(conn) != PQTRANS_IDLE) {
                                    // Leave the pooled connection as it was lent.
                                    (void)pg::Exec(conn, "ROLLBACK", nullptr, "ending a read");
                                  }
                                  return read;
                                })));
  // Whatever a read returns is committed (see the head lock), and with
  // synchronous commit on the synchronous standbys too (ReadAllDurable).
  if (!events.empty()) NoteCommitted(events.back().position);
  return events;
}

StoreResult<uint64_t> PostgresEventLog::Scan(uint64_t from_position, uint64_t to_position,
                                             const std::function<bool(const EventRef&)>& fn) {
  constexpr size_t kScanChunk = 4096;
  from_position = std::max<uint64_t>(from_position, 1);
  // Up to the head as this node knows it, as the contract says; a reader
  // that wants the other nodes' latest commits refreshes the head first.
  const uint64_t last = std::min(to_position, LastPosition());
  uint64_t position = from_position - 1;
  while (position < last) {
    const size_t want = size_t(std::min<uint64_t>(last - position, kScanChunk));
    BOOST_OUTCOME_TRY(events, ReadAll(position + 1, want));
    if (events.empty()) {
      return StoreError{StoreCode::kCorruption, "the log ends before its head", 0};
    }
    for (const StoredEvent& e : events) {
      if (e.position != position + 1) {
        return StoreError{StoreCode::kCorruption, "a gap in the log's positions", 0};
      }
      position = e.position;
      if (!fn(EventRef{e.position, e.stream, e.version, e.event_id, e.data, e.hash})) {
        return position;
      }
      if (position == last) break;
    }
  }
  return position;
}

namespace {

class PostgresSubscription final : public Subscription {
 public:
  PostgresSubscription(PostgresEventLog* log, uint64_t after) : log_(log), position_(after) {}

  // Waits for a notification past the cursor, then reads. A wait that
  // times out reads too: that poll covers notifications the listener
  // missed while reconnecting. While the server is lost (a failover), a
  // read that fails for it is no error of the log: the wait runs out its
  // timeout and answers nothing yet, and the next call tries again.
  StoreResult<std::vector<StoredEvent>> Next(size_t max_count,
                                             std::chrono::milliseconds timeout) override {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    if (log_->LastPosition() <= position_) {
      log_->WaitForHeadAfter(position_, deadline, &cancelled_);
    }
    if (cancelled_.exchange(false)) return std::vector<StoredEvent>{};
    auto events = log_->ReadAll(position_ + 1, max_count);
    if (!events && events.error().code == StoreCode::kUnavailable) {
      log_->WaitForHeadAfter(std::numeric_limits<uint64_t>::max(), deadline, &cancelled_);
      cancelled_.store(false);
      return std::vector<StoredEvent>{};
    }
    if (!events) return events.error();
    if (!events.value().empty()) position_ = events.value().back().position;
    return events;
  }
  void Cancel() override {
    cancelled_.store(true);
    log_->WakeWaiters();
  }
  uint64_t position() const override { return position_; }

 private:
  PostgresEventLog* log_;
  uint64_t position_;
  std::atomic<bool> cancelled_{false};
};

}  // namespace

std::unique_ptr<Subscription> PostgresEventLog::Subscribe(uint64_t after_position) {
  return std::make_unique<PostgresSubscription>(this, after_position);
}

}  // namespace jobtrail::eventstore

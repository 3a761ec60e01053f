// PostgresEventLog's write path: one writer thread, one transaction per
// group of waiting appends. See postgres_event_log.h for why positions
// taken under the head row's lock are safe to follow.
#include <fmt/format.h>

#include <optional>
#include <unordered_map>

#include "eventstore/append_rules.h"
#include "eventstore/hash_chain.h"
#include "eventstore/key_format.h"
#include "eventstore/postgres/pg_listener.h"
#include "eventstore/postgres/pg_schema.h"
#include "eventstore/postgres/postgres_event_log.h"
#include "eventstore/postgres/postgres_event_log_internal.h"

namespace jobtrail::eventstore {
using pg_internal::Request;

namespace pg_internal {

// What the group's transaction learnt and staged. Later appends of a group
// see the ids and versions of earlier ones, as in RocksEventLog.
struct GroupPlan {
  struct IdHit {
    uint64_t position = 0;
    uint32_t index = 0;  // in its append
    uint32_t count = 0;  // events in that append
    std::string stream;
    uint64_t version = 0;
  };
  struct Part {
    Request* request;
    size_t index;  // in request->parts
  };
  std::vector<Part> valid;  // parts that passed ValidateAppend, in order
  std::vector<bool> rejected;  // per valid part: refused by the log's state
  // From the database, read under the head lock.
  uint64_t head_position = 0;
  std::string head_hash;
  std::unordered_map<std::string, IdHit> db_ids;
  std::unordered_map<std::string, uint64_t> db_versions;
  // Staged by this group.
  uint64_t position = 0;
  std::string hash;
  std::unordered_map<std::string, IdHit> staged_ids;
  std::unordered_map<std::string, uint64_t> staged_versions;
  size_t staged_events = 0;
  pg::ArrayBuilder positions{pg::kInt8}, streams{pg::kBytea}, versions{pg::kInt8},
      ids{pg::kBytea}, indexes{pg::kInt4}, counts{pg::kInt4}, data{pg::kBytea},
      hashes{pg::kBytea};

  // Forgets what an earlier attempt read and staged.
  void Restart() {
    db_ids.clear();
    db_versions.clear();
    staged_ids.clear();
    staged_versions.clear();
    staged_events = 0;
    rejected.clear();
    for (pg::ArrayBuilder* a : {&positions, &streams, &versions, &ids, &indexes, &counts, &data,
                                &hashes}) {
      *a = pg::ArrayBuilder(a->element());
    }
  }
  const IdHit* Lookup(const std::string& id) const {
    if (auto it = staged_ids.find(id); it != staged_ids.end()) return &it->second;
    if (auto it = db_ids.find(id); it != db_ids.end()) return &it->second;
    return nullptr;
  }
  uint64_t Version(const std::string& stream) const {
    if (auto it = staged_versions.find(stream); it != staged_versions.end()) return it->second;
    if (auto it = db_versions.find(stream); it != db_versions.end()) return it->second;
    return 0;
  }
};

}  // namespace pg_internal

namespace {
using pg_internal::GroupPlan;

constexpr const char* kLockHead = "jt_lock_head";
constexpr const char* kFindIds = "jt_find_ids";
constexpr const char* kStreamVersions = "jt_stream_versions";
constexpr const char* kInsert = "jt_insert";
constexpr const char* kSetHead = "jt_set_head";
constexpr const char* kNotify = "jt_notify";

StoreError Invalid(std::string message) {
  return StoreError{StoreCode::kInvalidArgument, std::move(message), 0};
}

StoreError Closed() { return StoreError{StoreCode::kClosed, "event log is closed", 0}; }

// The checks of RocksEventLog::FindDuplicate and Stage, with the same
// answers and messages; stages the part's events if it is accepted.
StoreResult<AppendResult> StagePart(const StreamAppend& part, GroupPlan& g) {
  const std::vector<EventToAppend>& events = part.events;
  const std::string& first_id = events.front().event_id;
  const GroupPlan::IdHit* first = g.Lookup(first_id);
  if (first == nullptr) {
    for (size_t i = 1; i < events.size(); ++i) {
      if (g.Lookup(events[i].event_id) != nullptr) {
        return Invalid(fmt::format("event id '{}' is already in the log", events[i].event_id));
      }
    }
  } else {
    if (first->stream != part.stream) {
      return Invalid(fmt::format("event id '{}' was already used in stream '{}'", first_id,
                                 first->stream));
    }
    const auto partial = [&] {
      return Invalid(fmt::format(
          "event id '{}' is already in the log, but the append is not a retry of the one "
          "that used it (different event ids or count)",
          first_id));
    };
    if (first->index != 0 || first->count != events.size()) return partial();
    for (size_t i = 1; i < events.size(); ++i) {
      const GroupPlan::IdHit* other = g.Lookup(events[i].event_id);
      if (other == nullptr || other->position != first->position + i) return partial();
    }
    const uint64_t n = events.size();
    return AppendResult{first->position, first->position + n - 1, first->version,
                        first->version + n - 1, true};
  }

  const uint64_t current = g.Version(part.stream);
  if (part.expected_version != kAnyVersion && part.expected_version != current) {
    return StoreError{StoreCode::kWrongExpectedVersion,
                      fmt::format("stream '{}' is at version {}, expected {}", part.stream,
                                  current, part.expected_version),
                      current};
  }
  const uint32_t count = uint32_t(events.size());
  const AppendResult result{g.position + 1, g.position + count, current + 1, current + count,
                            false};
  for (uint32_t i = 0; i < count; ++i) {
    const EventToAppend& e = events[i];
    const uint64_t position = result.first_position + i;
    const uint64_t version = result.first_version + i;
    ChainHashInto(g.hash, position, part.stream, version, e.event_id, e.data, g.hash.data());
    g.positions.Int8(position);
    g.streams.Bytes(part.stream);
    g.versions.Int8(version);
    g.ids.Bytes(e.event_id);
    g.indexes.Int4(i);
    g.counts.Int4(count);
    g.data.Bytes(e.data);
    g.hashes.Bytes(g.hash);
    g.staged_ids[e.event_id] = GroupPlan::IdHit{position, i, count, part.stream, version};
  }
  g.position = result.last_position;
  g.staged_versions[part.stream] = result.last_version;
  g.staged_events += count;
  return result;
}

}  // namespace

StoreResult<AppendResult> PostgresEventLog::Append(std::string_view stream,
                                                   uint64_t expected_version,
                                                   std::vector<EventToAppend> events) {
  std::vector<StreamAppend> parts;
  parts.push_back(StreamAppend{std::string(stream), expected_version, std::move(events)});
  return std::move(Submit(std::move(parts)).front());
}

std::vector<StoreResult<AppendResult>> PostgresEventLog::AppendMany(
    std::vector<StreamAppend> appends) {
  if (appends.empty()) return {};
  return Submit(std::move(appends));
}

std::vector<StoreResult<AppendResult>> PostgresEventLog::Submit(std::vector<StreamAppend> parts) {
  Request request;
  request.parts = std::move(parts);
  for (const StreamAppend& part : request.parts) {
    request.events += part.events.size();
    for (const auto& e : part.events) request.bytes += e.event_id.size() + e.data.size();
  }
  {
    std::lock_guard lock(mu_);
    if (closed_) return std::vector<StoreResult<AppendResult>>(request.parts.size(), Closed());
    queue_.push_back(&request);
  }
  writer_cv_.notify_one();
  request.done.Wait();
  return std::move(request.results);
}

size_t PostgresEventLog::PendingAppends() {
  std::lock_guard lock(mu_);
  size_t parts = in_flight_;
  for (const Request* r : queue_) parts += r->parts.size();
  return parts;
}

StoreResult<void> PostgresEventLog::Start() {
  writer_conn_ = std::make_unique<pg_internal::WriterConnection>();
  BOOST_OUTCOME_TRY(EnsureWriterConnection());
  listener_ = std::make_unique<pg_internal::Listener>(
      options_.url, [this](uint64_t position) { NoteCommitted(position); },
      // Notifications sent while the listener was away are lost: re-read.
      [this] { (void)RefreshHead(); });  // a failed read: the next poll finds it
  writer_ = std::thread([this] { WriterLoop(); });
  return boost::outcome_v2::success();
}

void PostgresEventLog::WriterLoop() {
  for (;;) {
    std::vector<Request*> group;
    {
      std::unique_lock lock(mu_);
      writer_cv_.wait(lock, [&] { return closed_ || !queue_.empty(); });
      if (closed_) {
        for (Request* r : queue_) {
          r->results.assign(r->parts.size(), Closed());
          r->done.Signal(1);
        }
        queue_.clear();
        return;
      }
      size_t events = 0;
      size_t bytes = 0;
      while (!queue_.empty()) {
        Request* r = queue_.front();
        if (!group.empty() && (events + r->events > options_.max_group_events ||
                               bytes + r->bytes > options_.max_group_bytes)) {
          break;
        }
        events += r->events;
        bytes += r->bytes;
        in_flight_ += r->parts.size();
        group.push_back(r);
        queue_.pop_front();
      }
    }
    CommitGroup(group);
    {
      std::lock_guard lock(mu_);
      in_flight_ = 0;
    }
    // After this a caller may return and free its request: touch none.
    for (Request* r : group) r->done.Signal(1);
  }
}

StoreResult<void> PostgresEventLog::EnsureWriterConnection() {
  pg::Conn& conn = writer_conn_->conn;
  if (conn && PQstatus(conn.get()) == CONNECTION_OK) return boost::outcome_v2::success();
  conn.reset();
  BOOST_OUTCOME_TRY(fresh, pg::Connect(options_.url, "jobtrail writer"));
  PGconn* c = fresh.get();
  // A writer that stalls inside its transaction (a hung process, a lost
  // network) holds the head lock; the server aborts it after this.
  BOOST_OUTCOME_TRY(pg::Exec(c, "SET idle_in_transaction_session_timeout = '15s'", nullptr,
                             "configuring the writer session"));
  // A plan a group: the lookups take arrays (= ANY), and a generic plan
  // cached while the table was small (no statistics yet) stays a
  // sequential scan as the log grows. Planning costs microseconds; a
  // scan of the log costs the rest of its life.
  BOOST_OUTCOME_TRY(pg::Exec(c, "SET plan_cache_mode = force_custom_plan", nullptr,
                             "configuring the writer session"));
  if (!options_.synchronous_commit) {
    BOOST_OUTCOME_TRY(pg::Exec(c, "SET synchronous_commit = off", nullptr,
                               "configuring the writer session"));
  }
  BOOST_OUTCOME_TRY(pg::Prepare(c, kLockHead,
                                "SELECT position, hash FROM jobtrail_log_head FOR UPDATE"));
  BOOST_OUTCOME_TRY(pg::Prepare(c, kFindIds,
                                "SELECT event_id, position, append_index, append_count, stream,"
                                " version FROM jobtrail_events WHERE event_id = ANY($1::bytea[])"));
  // Each stream's last version by one backward step on its unique index.
  BOOST_OUTCOME_TRY(pg::Prepare(c, kStreamVersions,
                                "SELECT s.stream, (SELECT e.version FROM jobtrail_events e"
                                " WHERE e.stream = s.stream ORDER BY e.version DESC LIMIT 1)"
                                " FROM unnest($1::bytea[]) AS s(stream)"));
  BOOST_OUTCOME_TRY(pg::Prepare(
      c, kInsert,
      "INSERT INTO jobtrail_events (position, stream, version, event_id, append_index,"
      " append_count, data, hash) SELECT * FROM unnest($1::int8[], $2::bytea[], $3::int8[],"
      " $4::bytea[], $5::int4[], $6::int4[], $7::bytea[], $8::bytea[])"));
  BOOST_OUTCOME_TRY(pg::Prepare(c, kSetHead,
                                "UPDATE jobtrail_log_head SET position = $1::int8, hash = $2::bytea"));
  const std::string notify =
      fmt::format("SELECT pg_notify('{}', $1::int8::text)", pg::kNotifyChannel);
  BOOST_OUTCOME_TRY(pg::Prepare(c, kNotify, notify.c_str()));
  conn = std::move(fresh);
  return boost::outcome_v2::success();
}

void PostgresEventLog::CommitGroup(const std::vector<Request*>& group) {
  GroupPlan plan;
  for (Request* r : group) {
    r->results.assign(r->parts.size(), StoreError{StoreCode::kIOError, "not run", 0});
    for (size_t i = 0; i < r->parts.size(); ++i) {
      auto valid = ValidateAppend(r->parts[i].stream, r->parts[i].events);
      if (valid) {
        plan.valid.push_back({r, i});
      } else {
        r->results[i] = valid.error();
      }
    }
  }
  if (plan.valid.empty()) return;
  // A transaction that failed before its COMMIT was sent wrote nothing:
  // after a broken connection (a server restart, a failover, an idle
  // connection cut) it is run once more on a fresh one.
  StoreResult<void> ran = boost::outcome_v2::success();
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool committing = false;
    ran = EnsureWriterConnection();
    if (ran) ran = RunTransaction(plan, &committing);
    if (ran || committing || writer_conn_->conn == nullptr ||
        PQstatus(writer_conn_->conn.get()) == CONNECTION_OK) {
      break;
    }
    writer_conn_->conn.reset();
  }
  NoteOutcome(ran ? nullptr : &ran.error());
  if (!ran) {
    // Nothing of the group is acknowledged; refusals decided under the
    // lock stand (they did not depend on this transaction committing).
    ResetWriterAfterFailure();
    for (size_t k = 0; k < plan.valid.size(); ++k) {
      if (k < plan.rejected.size() && plan.rejected[k]) continue;
      plan.valid[k].request->results[plan.valid[k].index] = ran.error();
    }
  }
}

StoreResult<void> PostgresEventLog::RunTransaction(GroupPlan& g, bool* committing) {
  PGconn* conn = writer_conn_->conn.get();
  g.Restart();
  // Round trip 1: lock the head, then read what the group's checks need.
  // The reads run after the lock is granted, so they see every commit
  // before it.
  pg::ArrayBuilder ids(pg::kBytea);
  pg::ArrayBuilder streams(pg::kBytea);
  for (const GroupPlan::Part& p : g.valid) {
    const StreamAppend& part = p.request->parts[p.index];
    streams.Bytes(part.stream);
    for (const auto& e : part.events) ids.Bytes(e.event_id);
  }
  pg::Pipeline begin(conn);
  begin.Sql("BEGIN");
  begin.Prepared(kLockHead, {});
  begin.Prepared(kFindIds, std::move(pg::Params().Array(ids)));
  begin.Prepared(kStreamVersions, std::move(pg::Params().Array(streams)));
  BOOST_OUTCOME_TRY(read, begin.Run("starting an append transaction"));
  const PGresult* head = read[1].get();
  if (PQntuples(head) != 1) {
    return StoreError{StoreCode::kCorruption, "jobtrail_log_head must hold one row", 0};
  }
  g.head_position = g.position = pg::GetU64(head, 0, 0);
  g.head_hash = g.hash = pg::GetBytes(head, 0, 1);
  if (g.hash.size() != key_format::kHashSize) {
    return StoreError{StoreCode::kCorruption, "the head's hash is not 32 bytes", 0};
  }
  NoteCommitted(g.head_position);
  const PGresult* found = read[2].get();
  for (int i = 0; i < PQntuples(found); ++i) {
    g.db_ids[std::string(pg::GetBytes(found, i, 0))] = GroupPlan::IdHit{
        pg::GetU64(found, i, 1), pg::GetU32(found, i, 2), pg::GetU32(found, i, 3),
        std::string(pg::GetBytes(found, i, 4)), pg::GetU64(found, i, 5)};
  }
  const PGresult* versions = read[3].get();
  for (int i = 0; i < PQntuples(versions); ++i) {
    if (pg::IsNull(versions, i, 1)) continue;  // a new stream
    g.db_versions[std::string(pg::GetBytes(versions, i, 0))] = pg::GetU64(versions, i, 1);
  }

  g.rejected.assign(g.valid.size(), false);
  for (size_t k = 0; k < g.valid.size(); ++k) {
    const GroupPlan::Part& p = g.valid[k];
    auto& result = p.request->results[p.index];
    result = StagePart(p.request->parts[p.index], g);
    g.rejected[k] = !result;
  }

  // Round trip 2: write and commit, or end a transaction that wrote nothing.
  pg::Pipeline finish(conn);
  if (g.staged_events == 0) {
    finish.Sql("ROLLBACK");
    BOOST_OUTCOME_TRY(finish.Run("ending an append transaction"));
    return boost::outcome_v2::success();
  }
  pg::Params rows;
  rows.Array(g.positions).Array(g.streams).Array(g.versions).Array(g.ids)
      .Array(g.indexes).Array(g.counts).Array(g.data).Array(g.hashes);
  finish.Prepared(kInsert, std::move(rows));
  finish.Prepared(kSetHead, std::move(pg::Params().Int8(g.position).Bytes(g.hash)));
  finish.Prepared(kNotify, std::move(pg::Params().Int8(g.position)));
  finish.Sql("COMMIT");
  *committing = true;
  auto committed = finish.Run("committing an append");
  if (!committed) {
    StoreError e = committed.error();
    if (PQstatus(conn) != CONNECTION_OK) {
      e.code = StoreCode::kUnavailable;
      e.message += "; the connection was lost, so whether the append committed is unknown: "
                   "retry it with the same event ids";
    }
    return e;
  }
  commits_.fetch_add(1);
  NoteCommitted(g.position);
  return boost::outcome_v2::success();
}

// After a failed transaction: roll back what is open, or drop the
// connection (the server then rolls back) so the next group reconnects.
void PostgresEventLog::ResetWriterAfterFailure() {
  pg::Conn& conn = writer_conn_->conn;
  if (!conn) return;
  if (PQstatus(conn.get()) != CONNECTION_OK ||
      PQpipelineStatus(conn.get()) != PQ_PIPELINE_OFF) {
    conn.reset();
    return;
  }
  if (PQtransactionStatus(conn.get()) != PQTRANS_IDLE) {
    if (!pg::Exec(conn.get(), "ROLLBACK", nullptr, "rolling back")) conn.reset();
  }
}

}  // namespace jobtrail::eventstore

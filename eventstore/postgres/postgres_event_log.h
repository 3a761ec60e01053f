#pragma once
// EventLog on PostgreSQL: a log that several jobtrail nodes share.
//
// Tables (pg_schema.h): jobtrail_events, one row per event, unique on
// (stream, version) and on event_id; jobtrail_log_head, one row with the
// position and hash of the last event.
//
// Positions: every append transaction locks the head row first (SELECT ...
// FOR UPDATE), takes the positions after it, chains the hashes from its
// hash, and updates it before COMMIT. So positions are gapless, and the
// transaction that takes position N commits before the one that takes N+1
// can even read the head (the lock is released only after the commit is
// visible). A reader that sees position N therefore sees every position
// below it: following `position > cursor ORDER BY position` never skips an
// event that was still committing. This serialises writers, which is what
// a hash chain needs anyway; the group commit below makes that cheap.
//
// Group commit: appends queue for one writer thread, which takes all that
// wait (up to a bound, an AppendMany whole) into one transaction of two
// round trips: [BEGIN, lock the head, look up the group's event ids and
// stream versions] and [INSERT every event (arrays, one statement), update
// the head, NOTIFY, COMMIT]. Each append is validated against the
// database and the appends before it in the group, exactly as
// RocksEventLog does, so rejected appends leave the others whole.
//
// Wake-ups: a listener connection LISTENs on the channel every commit
// NOTIFYs; subscriptions wait for it (and poll at their timeout, which also
// covers notifications lost while the listener reconnects).
//
// Connections: one for the writer, one for the listener, and a pool for
// reads. A broken connection is replaced on next use, from the URL again:
// with several hosts and target_session_attrs=read-write that is whichever
// server is the primary now, so a failover (Patroni) needs nothing from
// jobtrail. While no primary can be reached, appends and reads fail with
// kUnavailable (never a stale or partial answer), subscriptions wait, and
// Reachable() is false. An append whose commit could not be confirmed
// fails with kUnavailable saying so (retry it with the same event ids: the
// log answers duplicate=true if it did commit).
//
// Thread safety: every method may be called from any thread. The log must
// outlive its subscriptions.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "eventstore/event_log.h"

namespace jobtrail::eventstore {
namespace pg_internal {
class ConnectionPool;
class Listener;
struct Request;
struct GroupPlan;
struct WriterConnection;
}  // namespace pg_internal

struct PostgresEventLogOptions {
  // A libpq connection URL (postgresql://user@host:port/db?...) or
  // key=value string. Never logged: it may hold a password (prefer
  // ~/.pgpass or PGPASSWORD).
  std::string url;
  // false: acknowledge before the commit is flushed (synchronous_commit =
  // off; a server crash may lose the last commits, never reorder them).
  bool synchronous_commit = true;
  // The most events, and bytes of ids and data, one transaction takes (an
  // append larger than either still goes, alone).
  size_t max_group_events = 8192;
  size_t max_group_bytes = size_t{8} << 20;
  // Read connections kept open at most (more readers wait for one).
  size_t max_read_connections = 8;
};

class PostgresEventLog final : public EventLog {
 public:
  // Connects, checks the schema (pg_schema.h: kNotFound if missing or old,
  // kInvalidArgument if newer), reads the head and starts the writer and
  // the listener. kIOError if the server cannot be reached.
  static StoreResult<std::unique_ptr<PostgresEventLog>> Open(
      const PostgresEventLogOptions& options);
  ~PostgresEventLog() override;

  StoreResult<AppendResult> Append(std::string_view stream, uint64_t expected_version,
                                   std::vector<EventToAppend> events) override;
  std::vector<StoreResult<AppendResult>> AppendMany(std::vector<StreamAppend> appends) override;
  StoreResult<std::vector<StoredEvent>> ReadStream(std::string_view stream,
                                                   uint64_t from_version,
                                                   size_t max_count) override;
  StoreResult<uint64_t> StreamVersion(std::string_view stream) override;
  StoreResult<std::vector<StoredEvent>> ReadAll(uint64_t from_position,
                                                size_t max_count) override;
  // ReadAll in chunks (one query per kScanChunk events), each record handed
  // over from the chunk's buffers.
  StoreResult<uint64_t> Scan(uint64_t from_position, uint64_t to_position,
                             const std::function<bool(const EventRef&)>& fn) override;
  // The highest position this node knows to be committed: its own commits,
  // notifications of other nodes' commits, and what reads returned. Other
  // nodes' latest commits may be missing from it for a moment; it never
  // names a position that is not committed.
  uint64_t LastPosition() const override { return head_.load(); }
  std::unique_ptr<Subscription> Subscribe(uint64_t after_position) override;

  // The log's identity (a UUID made by `jobtrail migrate`): read models
  // can tell which log they follow.
  const std::string& log_id() const { return log_id_; }
  // Appends queued or being committed (tests line appenders up with it).
  size_t PendingAppends();
  // Appends the writer has taken into its current transaction.
  size_t InFlightAppends() {
    std::lock_guard lock(mu_);
    return in_flight_;
  }
  // Transactions committed by this log object (tests, metrics).
  uint64_t Commits() const { return commits_.load(); }
  // False from a failure that lost the server (kUnavailable) until the
  // next success, and while the listener's connection is lost: there is
  // no primary to write to (readiness says so; writes are refused up
  // front).
  bool Reachable() const;

  // Blocks until the listener is LISTENing (and has re-read the head), or
  // `deadline`; returns whether it is.
  bool WaitListening(std::chrono::steady_clock::time_point deadline);
  // Re-reads the head from the database (one query) and wakes waiters if it
  // moved. Returns the head.
  StoreResult<uint64_t> RefreshHead();
  // Blocks until the known head passes `position`, `deadline` passes or
  // *cancelled is set. Returns the known head.
  uint64_t WaitForHeadAfter(uint64_t position, std::chrono::steady_clock::time_point deadline,
                            const std::atomic<bool>* cancelled);
  void WakeWaiters();
  // Raises the known head to `position` (never lowers it) and wakes waiters.
  void NoteCommitted(uint64_t position);

 private:
  PostgresEventLog();
  StoreResult<void> Start();
  std::vector<StoreResult<AppendResult>> Submit(std::vector<StreamAppend> parts);
  void WriterLoop();
  // Runs one group's transaction and sets every request's results.
  void CommitGroup(const std::vector<pg_internal::Request*>& group);
  StoreResult<void> EnsureWriterConnection();
  // Fails with *committing set once the COMMIT may have been sent.
  StoreResult<void> RunTransaction(pg_internal::GroupPlan& plan, bool* committing);
  void ResetWriterAfterFailure();
  // Keeps Reachable() up to date with an operation's outcome.
  void NoteOutcome(const StoreError* error);
  template <typename T>
  StoreResult<T> Noted(StoreResult<T> r) {
    NoteOutcome(r ? nullptr : &r.error());
    return r;
  }

  PostgresEventLogOptions options_;
  std::string target_;  // user@host:port/db, for messages
  std::string log_id_;
  std::unique_ptr<pg_internal::ConnectionPool> readers_;
  std::unique_ptr<pg_internal::Listener> listener_;

  std::mutex mu_;
  std::condition_variable writer_cv_;          // a request queued, or closing
  std::deque<pg_internal::Request*> queue_;    // GUARDED_BY(mu_)
  size_t in_flight_ = 0;                       // GUARDED_BY(mu_), taken by the writer
  bool closed_ = false;                        // GUARDED_BY(mu_)
  std::thread writer_;
  std::unique_ptr<pg_internal::WriterConnection> writer_conn_;  // writer thread only

  std::atomic<uint64_t> head_{0};
  std::atomic<uint64_t> commits_{0};
  std::atomic<bool> lost_server_{false};
  std::mutex head_mu_;
  std::condition_variable head_cv_;
};

}  // namespace jobtrail::eventstore

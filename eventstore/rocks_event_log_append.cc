// RocksEventLog's write path: the group commit. See rocks_event_log.h for
// the protocol; the invariants it relies on are noted where they are kept.
#include <fmt/format.h>
#include <rocksdb/write_batch.h>

#include <algorithm>

#include "eventstore/append_rules.h"
#include "eventstore/internal/store_errors.h"
#include "eventstore/hash_chain.h"
#include "eventstore/internal/group_state.h"
#include "eventstore/internal/wal_guard.h"
#include "eventstore/internal/wake_event.h"
#include "eventstore/rocks_event_log.h"

namespace jobtrail::eventstore {
namespace kf = key_format;
using internal::IndexEntry;
namespace {

using internal::Corruption;
using internal::IoError;

// WakeEvent values: how a waiting appender is woken.
constexpr uint32_t kWokenDone = 1;    // its result is set
constexpr uint32_t kWokenLeader = 2;  // it leads the next group (Writer::wake)
constexpr uint32_t kWokenSync = 3;    // it runs the next sync (Writer::sync_wake)
constexpr size_t kMaxInlineWakes = 128;  // WakeSettled's targets without allocating

StoreError Invalid(std::string message) {
  return StoreError{StoreCode::kInvalidArgument, std::move(message), 0};
}

}  // namespace

struct RocksEventLog::Writer {
  std::string_view stream;  // the caller's, alive until the writer is woken
  uint64_t expected_version = 0;
  std::vector<EventToAppend>* events = nullptr;
  size_t bytes = 0;  // of ids and data, for the group bound
  StoreResult<AppendResult> result = StoreError{StoreCode::kClosed, {}, 0};
  // AppendMany queues its parts together: the first says how many writers
  // belong to it (a group never splits them); the others are never woken,
  // because their one caller waits on the first and may return at once.
  size_t parts = 1;
  bool silent = false;
  internal::WakeEvent wake;       // in the write queue: done, or lead
  internal::WakeEvent sync_wake;  // a leader awaiting its sync: done, or sync
};

RocksEventLog::RocksEventLog() : group_state_(std::make_unique<GroupState>()) {}

StoreResult<AppendResult> RocksEventLog::Append(std::string_view stream,
                                                uint64_t expected_version,
                                                std::vector<EventToAppend> events) {
  Writer w;
  w.stream = stream;
  w.expected_version = expected_version;
  w.events = &events;
  for (const auto& e : events) w.bytes += e.event_id.size() + e.data.size();
  bool lead = false;
  size_t queued_before = 0;
  {
    std::lock_guard lock(mu_);
    if (closed_) return StoreError{StoreCode::kClosed, "event log is closed", 0};
    if (read_only_) return Invalid("the event log is open read-only");
    writers_.push_back(&w);
    lead = writers_.size() == 1;
    queued_before = waiting_events_.fetch_add(events.size());
  }
  WakeParkedLeader(queued_before, events.size());
  if (!lead && w.wake.Wait() == kWokenDone) return std::move(w.result);
  LeadGroup(w);
  return std::move(w.result);
}

std::vector<StoreResult<AppendResult>> RocksEventLog::AppendMany(
    std::vector<StreamAppend> appends) {
  std::vector<StoreResult<AppendResult>> results;
  if (appends.empty()) return results;
  std::vector<Writer> writers(appends.size());
  for (size_t i = 0; i < appends.size(); ++i) {
    Writer& w = writers[i];
    w.stream = appends[i].stream;
    w.expected_version = appends[i].expected_version;
    w.events = &appends[i].events;
    for (const auto& e : appends[i].events) w.bytes += e.event_id.size() + e.data.size();
    w.silent = i > 0;
  }
  writers[0].parts = writers.size();
  bool lead = false;
  size_t queued = 0;
  for (const StreamAppend& a : appends) queued += a.events.size();
  size_t queued_before = 0;
  {
    std::lock_guard lock(mu_);
    if (closed_ || read_only_) {
      for (size_t i = 0; i < appends.size(); ++i) {
        results.push_back(closed_ ? StoreError{StoreCode::kClosed, "event log is closed", 0}
                                  : Invalid("the event log is open read-only"));
      }
      return results;
    }
    for (Writer& w : writers) writers_.push_back(&w);
    lead = writers_.size() == writers.size();
    queued_before = waiting_events_.fetch_add(queued);
  }
  WakeParkedLeader(queued_before, queued);
  if (lead || writers[0].wake.Wait() != kWokenDone) LeadGroup(writers[0]);
  results.reserve(writers.size());
  for (Writer& w : writers) results.push_back(std::move(w.result));
  return results;
}

void RocksEventLog::WakeParkedLeader(size_t before, size_t events) {
  if (before < kSmallGroupEvents && before + events >= kSmallGroupEvents &&
      leader_parked_.load()) {
    // The parked leader checks the count under commit_mu_: taking it here
    // means it either sees the new count or is already waiting.
    { std::lock_guard lock(commit_mu_); }
    commit_cv_.notify_all();
  }
}

size_t RocksEventLog::PendingAppends() {
  std::lock_guard lock(mu_);
  return writers_.size();
}

void RocksEventLog::LeadGroup(Writer& leader) {
  if (options_.durability == Durability::kSync) {
    // A small group while a sync runs: let it grow, until the sync ends or
    // kSmallGroupEvents are waiting. Every group written meanwhile waits for
    // the next sync anyway, and one group costs one RocksDB write and one
    // leader hand-off instead of several: leading at once, the server's
    // worker protocol wrote groups of 1-2 events, ~4 of them a sync. Past
    // the bound it writes at once, so that appenders who keep the disk busy
    // keep it busy (waiting for every sync's end cost 64 appenders 15%).
    std::unique_lock lock(commit_mu_);
    auto go = [&] {
      return !sync_running_ || failed_.load() || waiting_events_.load() >= kSmallGroupEvents;
    };
    // Parked before the count is read: an append counted after the read
    // then sees the flag and wakes us (WakeParkedLeader).
    leader_parked_.store(true);
    commit_cv_.wait(lock, go);
    leader_parked_.store(false);
  }
  std::vector<Writer*> group;
  size_t group_events = 0;
  {
    std::lock_guard lock(mu_);
    size_t events = 0;
    size_t bytes = 0;
    size_t parts_left = 0;  // writers of an AppendMany still to take
    for (Writer* w : writers_) {
      if (parts_left == 0) {
        if (!group.empty() && (events + w->events->size() > options_.max_group_events ||
                               bytes + w->bytes > options_.max_group_bytes)) {
          break;
        }
        parts_left = w->parts;
      }
      --parts_left;
      group.push_back(w);
      events += w->events->size();
      bytes += w->bytes;
    }
    group_events = events;
  }
  WriteGroup(group);

  // Pass leadership on first: the next group is staged and written while
  // this one syncs (kSync) and wakes its appenders.
  Writer* next = nullptr;
  {
    std::lock_guard lock(mu_);
    for (size_t i = 0; i < group.size(); ++i) writers_.pop_front();
    waiting_events_.fetch_sub(group_events);
    if (!writers_.empty()) next = writers_.front();
  }
  if (next != nullptr) next->wake.Signal(kWokenLeader);

  // An append is acknowledged only when everything it reports is committed:
  // its own events, or for a duplicate the original's (maybe still syncing
  // in an earlier group).
  uint64_t must_commit = 0;
  for (Writer* w : group) {
    if (w->result) must_commit = std::max(must_commit, w->result.value().last_position);
  }
  AwaitCommit(SyncWaiter{must_commit, &leader, std::move(group)});
}

// In kSync mode the WAL sync is a group commit of its own: while one sync
// runs, the groups written meanwhile queue in awaiting_sync_; when it ends,
// the thread that ran it hands the next sync to the first of them and wakes
// every appender it settled. Each appender sleeps once (twice for a
// leader), and the disk is never idle while kSmallGroupEvents wait (fewer
// wait for the running sync's end: LeadGroup). (A SyncWAL per
// group ran the syncs one after another, each covering one small group: 64
// appenders of 1 event made 2k events/s; waiting leaders on a condvar woke
// in a herd at every sync.)
void RocksEventLog::AwaitCommit(SyncWaiter waiter) {
  Writer& me = *waiter.leader;
  std::unique_lock lock(commit_mu_);
  if (waiter.must_commit <= committed_.load() || failed_.load() ||
      options_.durability == Durability::kNoSync) {
    Settle(waiter);
    const bool published = options_.durability == Durability::kNoSync && !failed_.load() &&
                           waiter.must_commit > 0;
    lock.unlock();
    if (published && commit_hook_) {
      commit_hook_(waiter.must_commit);
      commit_cv_.notify_all();  // Publish left the subscriptions to us (see below)
    }
    WakeSettled(waiter, me);
    return;
  }
  awaiting_sync_.push_back(std::move(waiter));
  if (sync_running_) {
    lock.unlock();
    if (me.sync_wake.Wait() == kWokenDone) return;
    lock.lock();  // kWokenSync: sync_running_ was handed to us
  }
  sync_running_ = true;
  // Every write that finished before this load is in the file already, so
  // the sync below covers it; our own group was written before we queued.
  const uint64_t target = written_.load();
  const bool failed = failed_.load();
  lock.unlock();
  rocksdb::Status s;
  if (!failed) {
    // A WAL append failing meanwhile is dropped by the guard; this syncs what came before.
    const auto started = std::chrono::steady_clock::now();
    s = db_->SyncWAL();
    sync_seconds_.Record(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  }
  if (!s.ok()) Fail(s, "syncing the WAL");
  lock.lock();
  if (s.ok() && !failed) {
    const uint64_t limit = uncommittable_from_ == 0 ? target : uncommittable_from_ - 1;
    if (std::min(target, limit) > committed_.load()) {
      committed_.store(std::min(target, limit));
      commit_clock_.Note(committed_.load(), std::chrono::steady_clock::now());
    }
  }
  std::vector<SyncWaiter> settled;
  for (auto it = awaiting_sync_.begin(); it != awaiting_sync_.end();) {
    if (failed_.load() || it->must_commit <= committed_.load()) {
      Settle(*it);
      settled.push_back(std::move(*it));
      it = awaiting_sync_.erase(it);
    } else {
      ++it;
    }
  }
  Writer* next_syncer = awaiting_sync_.empty() ? nullptr : awaiting_sync_.front().leader;
  sync_running_ = next_syncer != nullptr;
  const uint64_t committed = committed_.load();
  const bool hook = s.ok() && !failed_.load() && !settled.empty();
  lock.unlock();
  if (next_syncer != nullptr) next_syncer->sync_wake.Signal(kWokenSync);
  // The next sync runs meanwhile; the settled appenders wake to their
  // writes applied (read models), not to wait for them.
  if (hook && commit_hook_) commit_hook_(committed);
  // Subscriptions after the hook: woken before it, the read models' own
  // thread raced the hook for the commit, and when it won, every appender
  // of the group woke to its write not yet applied and slept again (a
  // protocol run: 2.9 context switches a request).
  commit_cv_.notify_all();
  for (const SyncWaiter& w : settled) WakeSettled(w, me);
}

// Under commit_mu_: turns the results of a group the log failed under into
// errors (a write may be on disk, but was never confirmed).
void RocksEventLog::Settle(const SyncWaiter& waiter) {
  if (!failed_.load() || waiter.must_commit <= committed_.load()) return;
  for (Writer* w : waiter.group) {
    if (w->result) w->result = failure_;
  }
}

void RocksEventLog::WakeSettled(const SyncWaiter& waiter, const Writer& me) {
  // Decide whom to wake before waking anyone: a woken AppendMany caller
  // frees all of its writers at once, the silent ones after it included,
  // so no writer may be read once the first signal is out.
  internal::WakeEvent* wakes[kMaxInlineWakes];
  std::vector<internal::WakeEvent*> more;
  size_t n = 0;
  for (Writer* w : waiter.group) {
    if (w == &me || w->silent) continue;
    internal::WakeEvent* e = w == waiter.leader ? &w->sync_wake : &w->wake;
    if (n < kMaxInlineWakes) {
      wakes[n++] = e;
    } else {
      more.push_back(e);
    }
  }
  for (size_t i = 0; i < n; ++i) wakes[i]->Signal(kWokenDone);
  for (internal::WakeEvent* e : more) e->Signal(kWokenDone);
}

void RocksEventLog::WriteGroup(const std::vector<Writer*>& group) {
  std::lock_guard write_lock(write_mu_);
  if (failed_.load()) {
    std::lock_guard lock(commit_mu_);
    for (Writer* w : group) w->result = failure_;
    return;
  }
  GroupState& g = *group_state_;
  g.Reset(last_position_, last_hash_);
  bool any_staged = false;
  size_t staged_events = 0;
  for (Writer* w : group) {
    w->result = Stage(*w, g);
    if (w->result && !w->result.value().duplicate) {
      any_staged = true;
      staged_events += w->events->size();
    }
  }
  if (!any_staged) return;
  g.stream_entries.Sort();
  g.id_entries.Sort();
  rocksdb::Status s;
  for (const auto& e : g.stream_entries) {
    if (s.ok()) s = g.batch.Put(streams_cf_, e.key, e.value);
  }
  for (const auto& e : g.id_entries) {
    if (s.ok()) s = g.batch.Put(ids_cf_, e.key, e.value);
  }
  if (s.ok()) s = g.batch.Put(default_cf_, kf::kHeadKey, kf::EncodeHead(g.position, g.hash));

  // Never synced here, even in kSync mode: LeadGroup syncs after handing
  // leadership on. Readers do not see these events before Publish().
  rocksdb::WriteOptions wo;
  wo.sync = false;
  if (s.ok()) s = db_->Write(wo, &g.batch);
  bool in_memtable = s.ok();
  if (s.ok() && guard_->broken()) {
    // Its WAL append failed, hidden from RocksDB (internal/wal_guard.h):
    // take the group back out of the memtable, so that it is refused as
    // cleanly as one RocksDB refused.
    in_memtable = !UndoGroup(g).ok();
    s = guard_->failure();
  }
  if (!s.ok()) {
    FailGroup(group, g, s, in_memtable);
    return;
  }
  group_events_.Record(double(staged_events));
  Advance(g);
  // With a commit hook the subscriptions are woken after it (AwaitCommit).
  if (options_.durability == Durability::kNoSync) Publish(g.position, !commit_hook_);
}

void RocksEventLog::FailGroup(const std::vector<Writer*>& group, const GroupState& g,
                              const rocksdb::Status& cause, bool in_memtable) {
  if (in_memtable) {
    // Its WAL record may be missing: a sync running now must not commit it.
    {
      std::lock_guard lock(commit_mu_);
      if (uncommittable_from_ == 0) uncommittable_from_ = last_position_ + 1;
    }
    Advance(g);
  }
  Fail(cause, "writing the WAL");
  std::lock_guard lock(commit_mu_);
  for (Writer* w : group) {
    if (w->result && !w->result.value().duplicate) w->result = failure_;
  }
}

StoreResult<AppendResult> RocksEventLog::Stage(Writer& w, GroupState& g) {
  const std::vector<EventToAppend>& events = *w.events;
  BOOST_OUTCOME_TRY(ValidateAppend(w.stream, events));
  BOOST_OUTCOME_TRY(duplicate, FindDuplicate(w, g));
  if (duplicate) return *duplicate;

  BOOST_OUTCOME_TRY(current, CurrentVersion(w, g));
  if (w.expected_version != kAnyVersion && w.expected_version != current) {
    return StoreError{StoreCode::kWrongExpectedVersion,
                      fmt::format("stream '{}' is at version {}, expected {}", w.stream,
                                  current, w.expected_version),
                      current};
  }
  const uint32_t count = uint32_t(events.size());
  const AppendResult result{g.position + 1, g.position + count, current + 1,
                            current + count, false};
  // Nothing above touched the batch; a failed Put below (only a batch size
  // limit can fail it) must leave no trace of this append either.
  g.batch.SetSavePoint();
  const uint64_t saved_position = g.position;
  const std::string saved_hash = g.hash;
  const size_t saved_stream_entries = g.stream_entries.size();
  const size_t saved_id_entries = g.id_entries.size();
  rocksdb::Status s;
  for (uint32_t i = 0; i < count && s.ok(); ++i) {
    const EventToAppend& e = events[i];
    const uint64_t position = result.first_position + i;
    const uint64_t version = result.first_version + i;
    ChainHashInto(g.hash, position, w.stream, version, e.event_id, e.data, g.hash.data());
    kf::EncodeRecordInto({w.stream, version, e.event_id, g.hash, e.data}, g.record);
    IndexEntry& by_stream = g.stream_entries.Add();
    kf::StreamKeyInto(w.stream, version, by_stream.key);
    by_stream.value.clear();
    kf::PutU64(by_stream.value, position);
    IndexEntry& by_id = g.id_entries.Add();
    by_id.key.assign(e.event_id);
    kf::EncodeIdEntryInto({position, i, count}, by_id.value);
    s = g.batch.Put(log_cf_, by_stream.value, g.record);
    g.position = position;
  }
  if (!s.ok()) {
    (void)g.batch.RollbackToSavePoint();  // the save point was set just above
    g.position = saved_position;
    g.hash = saved_hash;
    g.stream_entries.Truncate(saved_stream_entries);
    g.id_entries.Truncate(saved_id_entries);
    return IoError(s);
  }
  (void)g.batch.PopSavePoint();  // set just above; nothing to roll back to
  for (uint32_t i = 0; i < count; ++i) {
    g.ids[events[i].event_id] = internal::StagedId{{result.first_position + i, i, count}, w.stream,
                                         result.first_version + i};
  }
  g.versions[w.stream] = result.last_version;
  return result;
}

StoreResult<std::optional<AppendResult>> RocksEventLog::FindDuplicate(const Writer& w,
                                                                      GroupState& g) {
  const std::vector<EventToAppend>& events = *w.events;
  const std::string& first_id = events.front().event_id;
  BOOST_OUTCOME_TRY(first, LookupId(first_id, g));
  if (!first) {
    // A fresh first id: none of the others may be in use either.
    for (size_t i = 1; i < events.size(); ++i) {
      BOOST_OUTCOME_TRY(other, LookupId(events[i].event_id, g));
      if (other) {
        return Invalid(fmt::format("event id '{}' is already in the log", events[i].event_id));
      }
    }
    return std::optional<AppendResult>{};
  }
  // A retry must repeat the original append exactly: same stream, same ids
  // in the same order, no more and no fewer.
  if (first->stream != w.stream) {
    return Invalid(fmt::format("event id '{}' was already used in stream '{}'", first_id,
                               first->stream));
  }
  const auto partial = [&] {
    return Invalid(fmt::format(
        "event id '{}' is already in the log, but the append is not a retry of the one that "
        "used it (different event ids or count)",
        first_id));
  };
  if (first->entry.index != 0 || first->entry.count != events.size()) return partial();
  for (size_t i = 1; i < events.size(); ++i) {
    BOOST_OUTCOME_TRY(other, LookupId(events[i].event_id, g));
    if (!other || other->entry.position != first->entry.position + i) return partial();
  }
  const uint64_t n = events.size();
  return std::optional<AppendResult>{AppendResult{first->entry.position,
                                                  first->entry.position + n - 1,
                                                  first->version, first->version + n - 1,
                                                  true}};
}

StoreResult<std::optional<RocksEventLog::IdHit>> RocksEventLog::LookupId(std::string_view id,
                                                                       GroupState& g) {
  if (auto it = g.ids.find(id); it != g.ids.end()) {
    const internal::StagedId& staged = it->second;
    return std::optional{IdHit{staged.entry, std::string(staged.stream), staged.version}};
  }
  rocksdb::PinnableSlice value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), ids_cf_, id, &value);
  if (s.IsNotFound()) return std::optional<IdHit>{};
  if (!s.ok()) return IoError(s);
  auto entry = kf::DecodeIdEntry(value.ToStringView());
  if (!entry) {
    return StoreError{StoreCode::kCorruption,
                      fmt::format("malformed id index entry for '{}'", id), 0};
  }
  if (entry->index != 0) return std::optional{IdHit{*entry, {}, 0}};
  // The first event of an append: its stream and version matter to a retry.
  BOOST_OUTCOME_TRY(record, ReadAt(entry->position));
  if (record.event_id != id) {
    return StoreError{StoreCode::kCorruption,
                      fmt::format("id index for '{}' points at record {} of '{}'", id,
                                  entry->position, record.event_id),
                      0};
  }
  return std::optional{IdHit{*entry, std::move(record.stream), record.version}};
}

StoreResult<uint64_t> RocksEventLog::CurrentVersion(const Writer& w, GroupState& g) {
  if (auto it = g.versions.find(w.stream); it != g.versions.end()) return it->second;
  if (version_cache_stale_.exchange(false)) version_cache_.clear();
  if (auto it = version_cache_.find(w.stream); it != version_cache_.end()) return it->second;
  // An archived stream (compaction) takes no more events, whatever the
  // expected version: its tombstone sits under version 1.
  auto archived = [&](uint64_t version) {
    return StoreError{StoreCode::kWrongExpectedVersion,
                      fmt::format("stream '{}' is archived at version {}", w.stream, version),
                      version};
  };
  const uint64_t expected = w.expected_version;
  if (expected != kAnyVersion) {
    // Two point lookups (bloom-filtered) instead of an iterator: the stream
    // is at `expected` iff that version exists (or is 0) and the next not.
    int at = 1;
    if (expected > 0) {
      BOOST_OUTCOME_TRY(entry, StreamEntry(w.stream, expected));
      at = entry;
    }
    if (at == 1) {
      BOOST_OUTCOME_TRY(next, StreamEntry(w.stream, expected + 1));
      if (next == 0) return expected;
    }
  }
  bool is_archived = false;
  BOOST_OUTCOME_TRY(latest,
                    LatestVersion(w.stream, std::numeric_limits<uint64_t>::max(), &is_archived));
  if (is_archived) return archived(latest);
  return latest;
}

StoreResult<int> RocksEventLog::StreamEntry(std::string_view stream, uint64_t version) {
  rocksdb::PinnableSlice value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), streams_cf_, kf::StreamKey(stream, version), &value);
  if (s.IsNotFound()) return 0;
  if (!s.ok()) return IoError(s);
  return kf::IsTombstoneValue(value.ToStringView()) ? 2 : 1;
}

}  // namespace jobtrail::eventstore

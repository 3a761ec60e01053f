#pragma once
// The event log: the only source of truth. An append-only sequence of opaque
// records with two orders: a global position (1, 2, 3... over the whole log)
// and a per-stream version (1, 2, 3... within one stream, i.e. one job).
//
// This is the seam for other backends (a distributed log): keep it small.
// Every method is thread-safe. Records are immutable once appended.
#include <chrono>
#include <functional>
#include <optional>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "eventstore/store_error.h"

namespace jobtrail::eventstore {

// Expected-version sentinels for Append.
inline constexpr uint64_t kAnyVersion = std::numeric_limits<uint64_t>::max();
inline constexpr uint64_t kNoStream = 0;  // the stream must not exist yet

struct EventToAppend {
  std::string event_id;  // unique over the whole log; the idempotency key
  std::string data;      // opaque to the log
};

struct StoredEvent {
  uint64_t position = 0;
  std::string stream;
  uint64_t version = 0;
  std::string event_id;
  std::string data;
  std::string hash;  // 32 bytes: SHA-256 chaining this record to the one before
};

// One record as Scan hands it over: views into the log's read buffers,
// valid only during the callback (copy what must outlive it).
struct EventRef {
  uint64_t position = 0;
  std::string_view stream;
  uint64_t version = 0;
  std::string_view event_id;
  std::string_view data;
  std::string_view hash;
};

// One stream's part of an AppendMany.
struct StreamAppend {
  std::string stream;
  uint64_t expected_version = kAnyVersion;
  std::vector<EventToAppend> events;
};

struct AppendResult {
  uint64_t first_position = 0;
  uint64_t last_position = 0;
  uint64_t first_version = 0;
  uint64_t last_version = 0;
  bool duplicate = false;  // every event id was already in the log
};

// A compacted range of the global order: positions first..last were taken
// out of the log into an archive (RocksEventLog::ArchiveStreams); the hash
// of the last one lets the chain go on across the range.
struct Gap {
  uint64_t first = 0;
  uint64_t last = 0;
  std::string last_hash;
};

// One archived record: the event and the hash of the record before it in
// the global order (so the archive proves its part of the chain).
struct ArchivedEvent {
  StoredEvent event;
  std::string prev_hash;
};

// A cursor over the global order that catches up and then follows live.
// Not thread-safe: one consumer per subscription.
class Subscription {
 public:
  virtual ~Subscription() = default;
  // Returns up to `max_count` events after the cursor, waiting up to
  // `timeout` for at least one. An empty vector means the timeout passed or
  // Cancel() was called. Errors: kCorruption, kIOError, kClosed.
  virtual StoreResult<std::vector<StoredEvent>> Next(
      size_t max_count, std::chrono::milliseconds timeout) = 0;
  // Wakes a Next() blocked in another thread; safe to call from any thread.
  virtual void Cancel() = 0;
  virtual uint64_t position() const = 0;  // last position returned
};

class EventLog {
 public:
  virtual ~EventLog() = default;

  // Appends `events` to `stream` atomically (all or none) if the stream is at
  // `expected_version` (kAnyVersion: no check; kNoStream: must not exist).
  // Returns once the events are durable per the log's durability setting.
  // If the first event id is already in the log and the whole request
  // matches what was appended then (same stream, same ids in the same
  // order; data is not compared), returns that first result with
  // duplicate=true and appends nothing, whatever `expected_version` says.
  // Errors: kWrongExpectedVersion (current_version set), kInvalidArgument
  // (bad names, an empty append, an id twice in the request, an id already
  // used other than by an exact retry), kIOError, kClosed.
  virtual StoreResult<AppendResult> Append(std::string_view stream,
                                           uint64_t expected_version,
                                           std::vector<EventToAppend> events) = 0;

  // Appends several streams' events in one commit: each part is checked and
  // answered exactly as Append would (one part's error does not stop the
  // others, and parts may name the same stream, applied in order), and the
  // parts that pass are written in one atomic write and made durable by one
  // sync. Results are in the order of `appends`. Used for claims of many
  // jobs and for batches, so K jobs cost one commit, not K.
  virtual std::vector<StoreResult<AppendResult>> AppendMany(
      std::vector<StreamAppend> appends) = 0;

  // Events of `stream` with version >= from_version, in order, at most
  // max_count. An unknown stream yields an empty vector.
  virtual StoreResult<std::vector<StoredEvent>> ReadStream(
      std::string_view stream, uint64_t from_version, size_t max_count) = 0;

  // The stream's current version; 0 if it does not exist.
  virtual StoreResult<uint64_t> StreamVersion(std::string_view stream) = 0;

  // Events with position >= from_position, in order, at most max_count.
  virtual StoreResult<std::vector<StoredEvent>> ReadAll(uint64_t from_position,
                                                        size_t max_count) = 0;

  // Calls `fn` with every event from `from_position` up to `to_position`
  // (capped at LastPosition()), in order, until `fn` returns false. Returns
  // the last position handed over (from_position - 1 if none). For passes
  // over the whole log (rebuild, verify): no copy per record, reads ahead
  // in large chunks and leaves the block cache to the hot data. Errors:
  // kCorruption, kIOError.
  virtual StoreResult<uint64_t> Scan(uint64_t from_position, uint64_t to_position,
                                     const std::function<bool(const EventRef&)>& fn) = 0;

  // Position of the last committed event; 0 for an empty log. Reads never
  // return events past it.
  virtual uint64_t LastPosition() const = 0;

  // A subscription whose first Next() returns events after `after_position`.
  virtual std::unique_ptr<Subscription> Subscribe(uint64_t after_position) = 0;

  // Compaction (a log that never compacts has neither): ReadAll skips the
  // positions of archived streams; the range that starts at `first`, if
  // there is one; and every archived stream's records, read back from the
  // archive (in version order), stream by stream. ReadStream of an
  // archived stream reads the archive too.
  virtual StoreResult<std::optional<Gap>> GapAt(uint64_t first) {
    (void)first;
    return std::optional<Gap>{};
  }
  using ArchivedStreamFn = std::function<StoreResult<void>(const std::vector<ArchivedEvent>&)>;
  virtual StoreResult<void> ForEachArchivedStream(const ArchivedStreamFn& fn) {
    (void)fn;
    return boost::outcome_v2::success();
  }
};

}  // namespace jobtrail::eventstore

// RocksEventLog's compaction: archived streams leave the log for the
// archive (archive.h), and what stays behind keeps every promise the log
// made - the stream keeps its version and reads back whole, positions are
// never reused, and the hash chain goes on across the hole (FORMAT.md,
// "Compaction").
#include <fmt/format.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "eventstore/internal/store_errors.h"
#include "eventstore/hash_chain.h"
#include "eventstore/rocks_event_log.h"

namespace jobtrail::eventstore {
namespace kf = key_format;
namespace fs = std::filesystem;
namespace {

using internal::Corruption;
using internal::IoError;


// A range of archived positions while a compaction is planned.
struct Range {
  uint64_t first = 0;
  uint64_t last = 0;
  std::string last_hash;
};

}  // namespace

std::shared_ptr<const Archive> RocksEventLog::archive() {
  std::lock_guard lock(archive_mu_);
  return archive_;
}

std::string RocksEventLog::RecordedArchiveDir() const {
  // Inside the data directory (the log's parent), the archive is recorded
  // relative to it, so a copy of the whole directory finds its own copy.
  std::error_code ec;
  const fs::path data = fs::weakly_canonical(fs::path(dir_).parent_path(), ec);
  const fs::path archive = fs::weakly_canonical(options_.archive_dir, ec);
  const fs::path relative = archive.lexically_relative(data);
  if (!ec && !relative.empty() && *relative.begin() != "..") return relative.string();
  return fs::absolute(options_.archive_dir, ec).string();
}

StoreResult<void> RocksEventLog::LoadArchive() {
  std::string dir = options_.archive_dir;
  if (dir.empty()) {
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), default_cf_, kf::kArchiveDirKey, &dir);
    if (s.IsNotFound()) return boost::outcome_v2::success();
    if (!s.ok()) return IoError(s);
    if (fs::path(dir).is_relative()) dir = (fs::path(dir_).parent_path() / dir).string();
  }
  std::lock_guard lock(archive_mu_);
  if (!archive_ || archive_->dir() != dir) {
    archive_ = std::make_shared<const Archive>(dir, options_.archive_compression,
                                               options_.archive_renderer);
  }
  return boost::outcome_v2::success();
}

StoreResult<std::optional<ArchiveRef>> RocksEventLog::TombstoneOf(std::string_view stream) {
  rocksdb::PinnableSlice slice;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), streams_cf_, kf::StreamKey(stream, 1), &slice);
  if (s.IsNotFound()) return std::optional<ArchiveRef>{};
  if (!s.ok()) return IoError(s);
  const std::string_view value = slice.ToStringView();
  if (!kf::IsTombstoneValue(value)) return std::optional<ArchiveRef>{};
  if (value.size() < kf::kTombstoneHeaderSize) {
    return Corruption(fmt::format("malformed tombstone of '{}'", stream));
  }
  auto ref = DecodeArchiveRef(value.substr(kf::kTombstoneHeaderSize));
  if (!ref) return Corruption(fmt::format("malformed tombstone of '{}'", stream));
  return std::optional<ArchiveRef>{std::move(*ref)};
}

StoreResult<std::vector<StoredEvent>> RocksEventLog::ReadArchivedStream(const ArchiveRef& ref,
                                                                        std::string_view stream,
                                                                        uint64_t from_version,
                                                                        size_t max_count) {
  auto from = archive();
  if (!from) {
    return StoreError{StoreCode::kNotFound,
                      fmt::format("'{}' is archived, and no archive directory is known", stream),
                      0};
  }
  BOOST_OUTCOME_TRY(records, from->Read(ref));
  std::vector<StoredEvent> out;
  for (ArchivedRecord& r : records) {
    if (r.event.stream != stream) {
      return Corruption(fmt::format("archive {} at {} holds '{}', not '{}'", ref.file,
                                    ref.offset, r.event.stream, stream));
    }
    if (r.event.version >= from_version && out.size() < max_count) {
      out.push_back(std::move(r.event));
    }
  }
  return out;
}

StoreResult<uint64_t> RocksEventLog::ReadCounter(std::string_view key) {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), default_cf_, key, &value);
  if (s.IsNotFound()) return uint64_t{0};
  if (!s.ok()) return IoError(s);
  if (value.size() != 8) return Corruption(fmt::format("malformed '{}' entry", key));
  return kf::GetU64(value);
}

StoreResult<uint64_t> RocksEventLog::CompactionCursor() { return ReadCounter(kf::kCompactedKey); }

StoreResult<uint64_t> RocksEventLog::ArchivedThrough() {
  return ReadCounter(kf::kArchivedThroughKey);
}

StoreResult<std::optional<Gap>> RocksEventLog::GapAt(uint64_t first) {
  rocksdb::PinnableSlice value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), log_cf_, kf::PositionKey(first), &value);
  if (s.IsNotFound()) return std::optional<Gap>{};
  if (!s.ok()) return IoError(s);
  return kf::DecodeGap(first, value.ToStringView());
}

StoreResult<void> RocksEventLog::ForEachArchivedStream(const ArchivedStreamFn& fn) {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), streams_cf_));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const std::string_view value = it->value().ToStringView();
    if (!kf::IsTombstoneValue(value)) continue;
    if (value.size() < kf::kTombstoneHeaderSize) return Corruption("malformed tombstone");
    auto ref = DecodeArchiveRef(value.substr(kf::kTombstoneHeaderSize));
    if (!ref) return Corruption("malformed tombstone");
    auto from = archive();
    if (!from) return StoreError{StoreCode::kNotFound, "the log has archived streams, and no "
                                                      "archive directory is known", 0};
    BOOST_OUTCOME_TRY(records, from->Read(*ref));
    BOOST_OUTCOME_TRYV(fn(records));
  }
  if (!it->status().ok()) return IoError(it->status());
  return boost::outcome_v2::success();
}

StoreResult<CompactionResult> RocksEventLog::ArchiveStreams(
    const std::vector<std::string>& streams, uint64_t cursor) {
  if (read_only_) {
    return StoreError{StoreCode::kInvalidArgument, "the event log is open read-only", 0};
  }
  if (options_.archive_dir.empty()) {
    return StoreError{StoreCode::kInvalidArgument, "compaction needs an archive directory", 0};
  }
  std::lock_guard lock(compact_mu_);
  BOOST_OUTCOME_TRYV(LoadArchive());
  CompactionResult result;
  // 1. The streams' records, as the log has them (committed only).
  std::vector<std::vector<ArchivedRecord>> segments;
  std::vector<std::string> names;
  for (const std::string& stream : streams) {
    BOOST_OUTCOME_TRY(tombstone, TombstoneOf(stream));
    if (tombstone) continue;
    BOOST_OUTCOME_TRY(events, ReadLiveStream(stream, 1, std::numeric_limits<size_t>::max()));
    if (events.empty()) continue;
    std::vector<ArchivedRecord> records;
    for (StoredEvent& e : events) records.push_back(ArchivedRecord{std::move(e), {}});
    segments.push_back(std::move(records));
    names.push_back(stream);
  }
  if (segments.empty()) {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    std::string value;
    kf::PutU64(value, cursor);
    rocksdb::Status s = db_->Put(wo, default_cf_, kf::kCompactedKey, value);
    if (!s.ok()) return IoError(s);
    return result;
  }

  // 2. Each record's predecessor's hash: from this compaction, from the log,
  // or from the gap that ends right before it.
  std::vector<ArchivedRecord*> by_position;
  for (auto& segment : segments) {
    for (ArchivedRecord& r : segment) by_position.push_back(&r);
  }
  std::sort(by_position.begin(), by_position.end(),
            [](const ArchivedRecord* a, const ArchivedRecord* b) {
              return a->event.position < b->event.position;
            });
  for (size_t i = 0; i < by_position.size(); ++i) {
    const uint64_t p = by_position[i]->event.position;
    if (i > 0 && by_position[i - 1]->event.position + 1 == p) {
      by_position[i]->prev_hash = by_position[i - 1]->event.hash;
    } else if (p == 1) {
      by_position[i]->prev_hash = GenesisHash();
    } else {
      rocksdb::PinnableSlice value;
      rocksdb::Status s =
          db_->Get(rocksdb::ReadOptions(), log_cf_, kf::PositionKey(p - 1), &value);
      if (s.ok() && !kf::IsGapValue(value.ToStringView())) {
        auto record = kf::DecodeRecord(p - 1, value.ToStringView());
        if (!record) return Corruption(fmt::format("record {} is malformed", p - 1));
        by_position[i]->prev_hash = record->hash;
        continue;
      }
      if (!s.ok() && !s.IsNotFound()) return IoError(s);
      // Inside an earlier gap: the gap ending at p - 1 has the hash.
      std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), log_cf_));
      it->SeekForPrev(kf::PositionKey(p - 1));
      std::optional<Gap> gap;
      if (it->Valid()) {
        gap = kf::DecodeGap(kf::GetU64(it->key().ToStringView()), it->value().ToStringView());
      }
      if (!gap || gap->last != p - 1) {
        return Corruption(fmt::format("position {} is neither a record nor archived", p - 1));
      }
      by_position[i]->prev_hash = gap->last_hash;
    }
  }

  // 3. The archive first, durably: the log forgets nothing it has not kept.
  BOOST_OUTCOME_TRY(refs, archive()->Write(segments));

  // 4. One atomic write: records, index entries and ids out; tombstones, gap
  // records (merged with the gaps next to them) and the cursor in.
  rocksdb::WriteBatch batch;
  rocksdb::Status s;
  std::string tombstone;
  for (size_t i = 0; i < segments.size(); ++i) {
    const auto& records = segments[i];
    for (const ArchivedRecord& r : records) {
      if (s.ok()) s = batch.Delete(log_cf_, kf::PositionKey(r.event.position));
      if (s.ok()) s = batch.Delete(ids_cf_, r.event.event_id);
      if (s.ok() && r.event.version != 1) {
        s = batch.Delete(streams_cf_, kf::StreamKey(names[i], r.event.version));
      }
      ++result.events;
    }
    // One tombstone, under version 1 (where a new stream's append looks):
    // the last version's position, the last version, where the segment is.
    tombstone.clear();
    kf::PutU64(tombstone, records.back().event.position);
    kf::PutU64(tombstone, records.back().event.version);
    EncodeArchiveRef(refs[i], tombstone);
    if (s.ok()) s = batch.Put(streams_cf_, kf::StreamKey(names[i], 1), tombstone);
    result.archive_bytes += refs[i].length;
    ++result.streams;
  }
  std::vector<Range> ranges;  // this compaction's runs, then the gaps they touch
  for (const ArchivedRecord* r : by_position) {
    if (!ranges.empty() && ranges.back().last + 1 == r->event.position) {
      ranges.back().last = r->event.position;
      ranges.back().last_hash = r->event.hash;
    } else {
      ranges.push_back(Range{r->event.position, r->event.position, r->event.hash});
    }
  }
  std::map<uint64_t, Range> neighbours;  // existing gaps next to a run, by first
  for (size_t i = 0, runs = ranges.size(); i < runs; ++i) {
    const Range run = ranges[i];
    if (run.first > 1) {
      std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), log_cf_));
      it->SeekForPrev(kf::PositionKey(run.first - 1));
      if (it->Valid()) {
        const uint64_t key = kf::GetU64(it->key().ToStringView());
        auto gap = kf::DecodeGap(key, it->value().ToStringView());
        if (gap && gap->last == run.first - 1) neighbours[key] = Range{key, gap->last, gap->last_hash};
      }
      if (!it->status().ok()) return IoError(it->status());
    }
    BOOST_OUTCOME_TRY(after, GapAt(run.last + 1));
    if (after) neighbours[after->first] = Range{after->first, after->last, after->last_hash};
  }
  for (auto& [first, gap] : neighbours) {
    if (s.ok()) s = batch.Delete(log_cf_, kf::PositionKey(first));  // re-put below if kept
    ranges.push_back(gap);
  }
  std::sort(ranges.begin(), ranges.end(),
            [](const Range& a, const Range& b) { return a.first < b.first; });
  std::vector<Range> merged;
  for (Range& r : ranges) {
    if (!merged.empty() && merged.back().last + 1 == r.first) {
      merged.back().last = r.last;
      merged.back().last_hash = std::move(r.last_hash);
    } else {
      merged.push_back(std::move(r));
    }
  }
  for (const Range& r : merged) {
    if (s.ok()) s = batch.Put(log_cf_, kf::PositionKey(r.first), kf::EncodeGap(r.last, r.last_hash));
  }
  std::string cursor_value;
  kf::PutU64(cursor_value, cursor);
  if (s.ok()) s = batch.Put(default_cf_, kf::kCompactedKey, cursor_value);
  BOOST_OUTCOME_TRY(through, ArchivedThrough());
  std::string through_value;
  kf::PutU64(through_value, std::max(through, by_position.back()->event.position));
  if (s.ok()) s = batch.Put(default_cf_, kf::kArchivedThroughKey, through_value);
  if (s.ok()) s = batch.Put(default_cf_, kf::kArchiveDirKey, RecordedArchiveDir());
  if (!s.ok()) return IoError(s);
  rocksdb::WriteOptions wo;
  wo.sync = true;
  s = db_->Write(wo, &batch);
  if (!s.ok()) return IoError(s);
  version_cache_stale_.store(true);
  return result;
}

}  // namespace jobtrail::eventstore

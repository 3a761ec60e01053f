// Log compaction seen from the store: which jobs to archive (those whose
// expired event the read models have applied), keeping the read models
// durable ahead of what the log forgets, and folding the archive back in
// where the whole history is needed (Rebuild, Verify).
//
// Why the read models must be durable first: they are written without a
// WAL, so after a crash they resume from their last flush and replay the
// log from there. Events the log has archived cannot be replayed; so the
// read models are flushed past every event before it is archived, and a
// data directory whose read models stand behind the log's archived events
// anyway (a backup copied while a compaction ran) is refolded on open.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "projections/rocks_job_store.h"
#include "projections/job_json.h"

namespace jobtrail {
namespace {

// A pass looks at this many new events at most, so one pass never holds
// the maintenance lock for long after a long pause.
constexpr uint64_t kScanLimit = 200'000;
constexpr size_t kScanChunk = 4096;
// Archived events folded per batch (whole jobs).
constexpr size_t kFoldChunk = 32768;

}  // namespace

eventstore::RocksEventLogOptions RocksJobStore::LogOptions(const JobStoreOptions& options) {
  eventstore::RocksEventLogOptions log;
  log.archive_dir = options.archive_dir;
  log.archive_compression = options.archive_gzip ? eventstore::ArchiveCompression::kGzip
                                                 : eventstore::ArchiveCompression::kNone;
  // Archive lines carry the event as people read it beside the raw record.
  log.archive_renderer = [](const eventstore::StoredEvent& stored) -> std::string {
    auto decoded = DecodeStored(stored);
    return decoded ? RenderEventJson(decoded.value()) : std::string();
  };
  return log;
}

Result<CompactionReport> RocksJobStore::CompactLog() {
  CompactionReport report;
  // A shared log is not compacted by its nodes (rocks_log_ null).
  if (options_.archive_dir.empty() || options_.read_only || rocks_log_ == nullptr) return report;
  // A backup is copying: skip this pass (the next tick does it) rather
  // than hold up the ticker's other work.
  std::unique_lock lock(backup_mu_, std::try_to_lock);
  if (!lock.owns_lock()) return report;
  uint64_t applied = 0;
  {
    std::lock_guard projector_lock(projector_mu_);
    applied = projector_->checkpoint();
  }
  auto cursor = rocks_log_->CompactionCursor();
  if (!cursor) return FromStoreError(cursor.error());
  uint64_t position = cursor.value();
  const uint64_t upto = std::min(applied, position + kScanLimit);
  std::vector<std::string> expired;
  while (position < upto) {
    auto chunk = log_->ReadAll(position + 1, kScanChunk);
    if (!chunk) return FromStoreError(chunk.error());
    if (chunk.value().empty()) break;
    for (const auto& stored : chunk.value()) {
      if (stored.position > upto) break;
      BOOST_OUTCOME_TRY(event, DecodeStored(stored));
      if (std::holds_alternative<Expired>(event.body)) expired.push_back(event.job_id);
      position = stored.position;
    }
    if (chunk.value().back().position > upto) break;
  }
  position = std::max(position, upto);  // past archived ranges too
  report.scanned_to = position;
  if (position == cursor.value()) return report;
  if (!expired.empty()) {
    // Durable read models up to `applied` before the log forgets anything.
    rocksdb::FlushOptions flush;
    flush.wait = true;
    rocksdb::Status s = views_->Flush(flush);
    if (!s.ok()) return Internal(fmt::format("views: flush before compaction: {}", s.ToString()));
  }
  auto archived = rocks_log_->ArchiveStreams(expired, position);
  if (!archived) return FromStoreError(archived.error());
  report.jobs_archived = archived.value().streams;
  report.events_archived = archived.value().events;
  report.archive_bytes = archived.value().archive_bytes;
  return report;
}

Result<void> RocksJobStore::FoldArchive(Projector& projector, uint64_t upto) {
  std::vector<eventstore::StoredEvent> chunk;
  auto fold = [&]() -> Result<void> {
    if (chunk.empty()) return Ok();
    BOOST_OUTCOME_TRYV(projector.ApplyBatch(chunk, /*archived=*/true));
    chunk.clear();
    return Ok();
  };
  Result<void> folded = Ok();
  auto walked = log_->ForEachArchivedStream(
      [&](const std::vector<eventstore::ArchivedEvent>& records) -> eventstore::StoreResult<void> {
        for (const auto& r : records) {
          if (r.event.position <= upto) chunk.push_back(r.event);
        }
        if (chunk.size() >= kFoldChunk) {
          folded = fold();
          if (!folded) return eventstore::StoreError{eventstore::StoreCode::kCorruption,
                                                     folded.error().message, 0};
        }
        return boost::outcome_v2::success();
      });
  if (!folded) return folded.error();
  if (!walked) return FromStoreError(walked.error());
  return fold();
}

}  // namespace jobtrail

#include "projections/rocks_job_store.h"

#include <fmt/format.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <rocksdb/cache.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>

#include <filesystem>

#include "eventstore/config/file_config_store.h"
#include "domain/job_id.h"
#include "eventstore/rocks_logger.h"
#include "projections/list_reader.h"
#include "projections/search_reader.h"
#include "projections/series_index.h"
#include "projections/log_identity.h"
#include "projections/uuid.h"
#include "projections/view_hints.h"
#include "projections/view_keys.h"
#include "schemas/event_codec.h"

namespace jobtrail {
namespace vk = view_keys;
namespace fs = std::filesystem;

Error JobNotFound(std::string_view id) {
  return NotFound("JOB_NOT_FOUND", fmt::format("job '{}' not found", id));
}

namespace {


bool ValidJobId(std::string_view id) { return IsValidJobId(id); }

Error ViewsIo(const rocksdb::Status& s) { return Internal(fmt::format("views: {}", s.ToString())); }

// RocksDB's info log lines (and RocksRecovery's), on the spdlog logger
// "storage" (stderr unless the program registered its own): stdout is the
// CLI's (`export` writes NDJSON there, `serve` its "listening on" line).
eventstore::LineLogger::Sink StorageSink() {
  std::shared_ptr<spdlog::logger> logger = spdlog::get("storage");
  if (!logger) {
    logger = std::make_shared<spdlog::logger>(
        "storage", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    // Another thread may have registered it meanwhile: keep theirs.
    try {
      spdlog::register_logger(logger);
    } catch (const spdlog::spdlog_ex&) {
      logger = spdlog::get("storage");
    }
  }
  return [logger](rocksdb::InfoLogLevel level, std::string_view line) {
    if (level >= rocksdb::InfoLogLevel::ERROR_LEVEL) {
      logger->error("{}", line);
    } else if (level == rocksdb::InfoLogLevel::WARN_LEVEL) {
      logger->warn("{}", line);
    } else {
      logger->info("{}", line);
    }
  };
}

}  // namespace

Result<std::unique_ptr<JobStore>> JobStore::Open(const JobStoreOptions& options) {
  BOOST_OUTCOME_TRY(store, RocksJobStore::OpenStore(options));
  return std::unique_ptr<JobStore>(std::move(store));
}

uint64_t JobReads::AwaitProjected(uint64_t after, std::chrono::milliseconds timeout) {
  // For stores without a projection thread to wake on (test doubles): look
  // a few times within the timeout.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const uint64_t projected = Progress().projected_position;
    if (projected > after || std::chrono::steady_clock::now() >= deadline) return projected;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
        std::chrono::milliseconds(20), deadline - std::chrono::steady_clock::now()));
  }
}

std::shared_ptr<config::ConfigStore> RocksJobStore::ConfigOf(const JobStoreOptions& options) {
  if (options.config) return options.config;
  return std::make_shared<config::FileConfigStore>(options.data_dir);
}

Result<std::unique_ptr<RocksJobStore>> RocksJobStore::OpenStore(const JobStoreOptions& options) {
  std::error_code ec;
  const fs::path dir(options.data_dir);
  // What marks a data directory: the log, or with a shared log the views
  // (or the file naming the log they follow, written just before them).
  const std::string marker = options.open_log ? "views" : "log";
  const bool marked = fs::exists(dir / marker, ec) ||
                      (options.open_log && fs::exists(dir / "log-identity", ec));
  if (options.data_dir.empty()) return InvalidArgument("a data directory is required");
  if (!fs::exists(dir, ec)) {
    if (!options.create_if_missing) {
      return NotFound("DATA_DIR_NOT_FOUND",
                      fmt::format("data directory '{}' does not exist", options.data_dir));
    }
    fs::create_directories(dir, ec);
    // Owner only, whatever the umask: the store holds every job's data.
    if (!ec) fs::permissions(dir, fs::perms::owner_all, ec);
    if (ec) return Internal(fmt::format("cannot create '{}': {}", options.data_dir, ec.message()));
  } else if (!fs::is_directory(dir, ec)) {
    return InvalidArgument(fmt::format("'{}' is not a directory", options.data_dir));
  } else if (options.open_log && fs::exists(dir / "log", ec)) {
    return MakeError(Code::kInvalidArgument, "DATA_DIR_HAS_LOG",
                     fmt::format("'{}' holds an embedded event log (log/); a node on a shared "
                                 "log needs a data directory of its own",
                                 options.data_dir));
  } else if (!marked && !fs::is_empty(dir, ec)) {
    return MakeError(Code::kDataLoss, "NOT_A_DATA_DIR",
                     fmt::format("'{}' is not empty and is not a jobtrail data directory "
                                 "(no {}/ inside); refusing to touch it",
                                 options.data_dir, marker));
  } else if (!marked && !options.create_if_missing) {
    return NotFound("DATA_DIR_NOT_FOUND",
                    fmt::format("'{}' holds no jobtrail data", options.data_dir));
  }
  if (options.read_only) return OpenReadOnly(options);

  std::unique_ptr<RocksJobStore> store(new RocksJobStore());
  store->options_ = options;
  store->clock_ = options.clock != nullptr ? options.clock : &store->system_clock_;
  store->storage_sink_ = StorageSink();
  store->views_dir_ = (dir / "views").string();
  if (options.open_log) {
    auto log = options.open_log();
    if (!log) {
      // The server's address and libpq's reason (never a password): the
      // operator needs them to fix the URL or start the server.
      if (log.error().code == eventstore::StoreCode::kUnavailable) {
        return MakeError(Code::kUnavailable, "STORAGE_UNAVAILABLE", log.error().message);
      }
      return FromStoreError(log.error());
    }
    store->log_ = std::move(log.value().log);
    store->log_health_ = std::move(log.value().health);
    BOOST_OUTCOME_TRYV(FollowLog(options.data_dir, store->views_dir_, log.value().identity));
  } else {
    eventstore::RocksEventLogOptions log_options = LogOptions(options);
    log_options.env = options.env;
    log_options.info_sink = store->storage_sink_;
    log_options.durability =
        options.sync ? eventstore::Durability::kSync : eventstore::Durability::kNoSync;
    log_options.create_if_missing = options.create_if_missing;
    auto log = eventstore::RocksEventLog::Open((dir / "log").string(), log_options);
    if (!log) return FromStoreError(log.error());
    store->rocks_log_ = log.value().get();
    store->log_ = std::move(log).value();
    // The thread that commits a group applies it to the read models before
    // waking its appenders (see ProjectCommitted). The store owns the log.
    store->rocks_log_->SetCommitHook(
        [s = store.get()](uint64_t committed) { s->ProjectCommitted(committed); });
  }
  if (auto opened = store->OpenViews(true); !opened) {
    if (opened.error().reason != "VIEWS_FORMAT") return opened.error();
    // Read models of another format: they are derived data, refold them.
    spdlog::warn("{}; rebuilding them from the log", opened.error().message);
    BOOST_OUTCOME_TRYV(store->Rebuild(nullptr));
    BOOST_OUTCOME_TRY(book, ScheduleBook::Open(ConfigOf(options),
                                               store->clock_->Now()));
    store->schedules_ = std::move(book);
    return store;
  }
  BOOST_OUTCOME_TRY(book, ScheduleBook::Open(ConfigOf(options),
                                             store->clock_->Now()));
  store->schedules_ = std::move(book);
  if (store->projector_->checkpoint() > store->log_->LastPosition()) {
    // Views ahead of the log: the log lost an unsynced tail (--no-sync and
    // a power loss). The log is the truth; refold the views from it.
    spdlog::warn("read models are ahead of the log ({} > {}); rebuilding them",
                 store->projector_->checkpoint(), store->log_->LastPosition());
    BOOST_OUTCOME_TRYV(store->Rebuild(nullptr));
    return store;
  }
  auto archived = store->rocks_log_ != nullptr ? store->rocks_log_->ArchivedThrough()
                                               : eventstore::StoreResult<uint64_t>(0);
  if (!archived) return FromStoreError(archived.error());
  if (store->projector_->checkpoint() < archived.value()) {
    // Views behind events the log has archived since (a backup copied
    // while a compaction ran): catching up would skip them; refold all.
    spdlog::warn("read models ({}) are behind archived events (up to {}); rebuilding them",
                 store->projector_->checkpoint(), archived.value());
    BOOST_OUTCOME_TRYV(store->Rebuild(nullptr));
    return store;
  }
  store->StartProjection();
  return store;
}

Result<void> RocksJobStore::OpenViews(bool create) {
  rocksdb::Options opts;
  if (options_.env != nullptr) opts.env = options_.env;
  if (!storage_sink_) storage_sink_ = StorageSink();  // (OpenReadOnly sets none)
  auto info_log = std::make_shared<eventstore::LineLogger>(storage_sink_,
                                                          rocksdb::InfoLogLevel::WARN_LEVEL);
  views_recovery_ = std::make_unique<eventstore::RocksRecovery>("the read models", info_log);
  views_recovery_->Configure(opts);
  opts.create_if_missing = create;
  opts.IncreaseParallelism(2);
  opts.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  opts.max_open_files = 512;
  // The views have no WAL: after a crash the projector refolds what their
  // memtable held. Smaller memtables bound that catch-up (a restart after
  // kill -9 is ready sooner) at the price of more, smaller flushes. 32 MiB
  // instead of 16: a 100,000-job lifecycle in claims of 50 took 5.4% less
  // server CPU (fewer flushes; a job's record rewritten within one memtable
  // is flushed once), and a restart after kill -9 at 10M events was ready
  // in 0.50-1.12 s (0.51-1.37 s with 16 MiB).
  opts.write_buffer_size = size_t{32} << 20;
  // Every flushed file spans the whole key range (status records are keyed
  // by random job ids), so each L0 -> L1 compaction rewrites all of L1.
  // Compacting after 8 files instead of 4 halves those rewrites: a 60,000-
  // job batched lifecycle wrote 85 MB in compactions instead of 184-187 MB,
  // with 9% less server CPU. 16 instead of 8 halved them again: a
  // 100,000-job lifecycle in claims of 50 took 7.6% less server CPU. Point
  // reads that miss stay cheap (bloom filters), and polls mostly hit the
  // status cache; a list page seeks through up to 16 files (an empty page
  // 23% slower at 15 files than at 7, a page of 50 jobs 1.5%, as rendering
  // dominates). Writes slow down at 40 files, stop at 56 (defaults 20, 36:
  // below the trigger's double).
  opts.level0_file_num_compaction_trigger = 16;
  opts.level0_slowdown_writes_trigger = 40;
  opts.level0_stop_writes_trigger = 56;
  // Most rows land next to the last one of their kind (view_hints.h).
  opts.memtable_insert_with_hint_prefix_extractor = view_keys::NewInsertHintPrefix();
  // Polls are point reads of status documents: keep them cached, and let
  // bloom filters skip files that cannot hold the key.
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(256 << 20);
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.cache_index_and_filter_blocks = true;
  // Filters and indexes in small partitions, cached one by one: the search
  // postings make files dense with keys (5M in a 64 MB file, a 6 MB
  // filter), and a block larger than a cache shard (256 MB / 64) is never
  // kept, so every point read that missed the memtable re-read and
  // checksummed whole filters: the projector slowed down as the store grew
  // (search_bench's 1,000,000-job build: 14 s for the first 100,000 jobs,
  // 115 s for the fourth).
  table.partition_filters = true;
  table.index_type = rocksdb::BlockBasedTableOptions::kTwoLevelIndexSearch;
  table.cache_index_and_filter_blocks_with_high_priority = true;
  table.pin_top_level_index_and_filter = true;
  opts.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s;
  info_log->set_quiet(true);  // see LineLogger::set_quiet
  if (options_.read_only) {
    // A secondary beside the server's projector, which deletes the files it
    // compacts away: keep every file open (store_backup.cc).
    opts.max_open_files = -1;
    s = rocksdb::DB::OpenAsSecondary(opts, views_dir_, scratch_dir_ + "/views", &raw);
  } else {
    s = rocksdb::DB::Open(opts, views_dir_, &raw);
  }
  info_log->set_quiet(false);
  if (!s.ok()) return ViewsIo(s);
  views_.reset(raw);
  // The views have no WAL: DB::Resume (flush the memtables) is all there
  // is to bring them back.
  if (!options_.read_only) views_recovery_->Start([db = raw] { return db->Resume(); });
  std::string marker;
  s = views_->Get(rocksdb::ReadOptions(), vk::kFormatKey, &marker);
  if (s.IsNotFound() && options_.read_only) {
    return MakeError(Code::kDataLoss, "VIEWS_FORMAT", "the read models have no format marker");
  } else if (s.IsNotFound()) {
    s = views_->Put(rocksdb::WriteOptions(), vk::kFormatKey, vk::kViewsFormat);
    if (!s.ok()) return ViewsIo(s);
  } else if (!s.ok()) {
    return ViewsIo(s);
  } else if (marker != vk::kViewsFormat) {
    return MakeError(Code::kDataLoss, "VIEWS_FORMAT",
                     fmt::format("read models have format '{}', not '{}'", marker,
                                 vk::kViewsFormat));
  }
  status_cache_.Clear();
  projector_ = std::make_unique<Projector>(views_.get(), log_.get(), &status_cache_, &claims_,
                                          &leases_, options_.observer);
  BOOST_OUTCOME_TRYV(projector_->Load());
  BOOST_OUTCOME_TRYV(LoadClaimIndex());
  BOOST_OUTCOME_TRYV(LoadLeaseIndex());
  {
    std::lock_guard lock(progress_mu_);
    projected_ = projector_->checkpoint();
    projection_error_.clear();
  }
  return Ok();
}

RocksJobStore::~RocksJobStore() {
  StopProjection();
  projector_.reset();
  CloseViews();
}

void RocksJobStore::CloseViews() {
  if (views_recovery_) views_recovery_->Stop();
  if (views_) {
    // The views are written without a WAL: flush them so a clean restart
    // resumes from here rather than from the last automatic flush.
    (void)views_->Flush(rocksdb::FlushOptions());  // a failed flush only costs replay
    (void)views_->Close();  // nothing to do about a failed close at exit
    views_.reset();
  }
  if (!scratch_dir_.empty()) {
    views_.reset();
    log_.reset();
    std::error_code ec;
    fs::remove_all(scratch_dir_, ec);  // the secondaries' own files, of no further use
  }
}


Result<StatusDocument> RocksJobStore::Status(std::string_view job_id) {
  if (!ValidJobId(job_id)) return JobNotFound(job_id);
  if (auto cached = status_cache_.Get(job_id)) {
    // Past its retention a job is gone, whether or not a maintenance pass
    // has expired it yet.
    if (PastRetention(cached->type, cached->created_at, cached->status)) {
      return JobNotFound(job_id);
    }
    return *cached;
  }
  std::string value;
  rocksdb::Status s = views_->Get(rocksdb::ReadOptions(), vk::JobKey(job_id), &value);
  if (s.IsNotFound()) return JobNotFound(job_id);
  if (!s.ok()) return ViewsIo(s);
  BOOST_OUTCOME_TRY(doc, DecodeStatusRecord(value));
  if (PastRetention(doc.type, doc.created_at, doc.status)) return JobNotFound(job_id);
  return std::move(doc);
}

Result<std::string> RocksJobStore::StatusJson(std::string_view job_id) {
  BOOST_OUTCOME_TRY(doc, Status(job_id));
  return std::move(doc.json);
}

Result<std::vector<RecordedEvent>> RocksJobStore::AuditHistory(std::string_view job_id) {
  if (!ValidJobId(job_id)) return JobNotFound(job_id);
  auto stored = log_->ReadStream(job_id, 1, std::numeric_limits<size_t>::max());
  if (!stored) return FromStoreError(stored.error());
  if (stored.value().empty()) return JobNotFound(job_id);
  return DecodeAll(stored.value());
}

Result<std::vector<RecordedEvent>> RocksJobStore::History(std::string_view job_id) {
  BOOST_OUTCOME_TRY(events, AuditHistory(job_id));
  const auto* enqueued = std::get_if<Enqueued>(&events.front().body);
  if (std::holds_alternative<Expired>(events.back().body) ||
      (enqueued != nullptr &&
       PastRetention(enqueued->type, events.front().timestamp,
                     std::holds_alternative<Failed>(events.back().body)      ? JobStatus::kFailed
                     : std::holds_alternative<Cancelled>(events.back().body) ? JobStatus::kCancelled
                                                                             : JobStatus::kNone))) {
    return JobNotFound(job_id);
  }
  return std::move(events);
}

Result<EventPage> RocksJobStore::ReadHistory(std::string_view job_id, uint64_t after_version,
                                             size_t limit) {
  if (limit == 0) return InvalidArgument("limit must be at least 1");
  // From the log, not the views: a page is there even while the read
  // models catch up. JOB_NOT_FOUND when expired, past retention or unknown.
  BOOST_OUTCOME_TRY(job, LatestJob(job_id));
  auto stored = log_->ReadStream(job_id, after_version + 1, limit + 1);
  if (!stored) return FromStoreError(stored.error());
  EventPage page;
  page.has_more = stored.value().size() > limit;
  if (page.has_more) stored.value().pop_back();
  BOOST_OUTCOME_TRY(events, DecodeAll(stored.value()));
  page.events = std::move(events);
  page.version = std::max(job.version, page.events.empty() ? 0 : page.events.back().version);
  return page;
}

Result<JobView> RocksJobStore::LatestJob(std::string_view job_id, JobSource source) {
  if (!ValidJobId(job_id)) return JobNotFound(job_id);
  BOOST_OUTCOME_TRY(job, CurrentJob(job_id, source));
  if (job.expired_at || PastRetention(job.spec.type, job.created_at, job.status)) {
    return JobNotFound(job_id);
  }
  return job;
}

Result<void> RocksJobStore::LoadClaimIndex() {
  claims_.Clear();
  std::unique_ptr<rocksdb::Iterator> it(views_->NewIterator(rocksdb::ReadOptions()));
  // The rows come queue by queue: each queue's entries go in at once.
  std::string queue;
  std::vector<ClaimIndex::Entry> entries;
  auto flush = [&] {
    if (!entries.empty()) claims_.AddAll(queue, std::move(entries));
    entries.clear();
  };
  for (it->Seek("q"); it->Valid() && it->key().starts_with("q"); it->Next()) {
    const std::string_view key = it->key().ToStringView();
    const size_t zero = key.find('\0');
    if (zero == std::string_view::npos || key.size() < zero + 1 + 16) {
      return DataLoss("views: a malformed claim row");
    }
    if (key.substr(1, zero - 1) != queue) {
      flush();
      queue.assign(key.substr(1, zero - 1));
    }
    ClaimIndex::Entry& entry = entries.emplace_back();
    entry.priority = int32_t((int64_t{1} << 31) - int64_t(vk::DecodeU64(key.substr(zero + 1))));
    entry.ready_at = vk::TimeFromSortable(vk::DecodeU64(key.substr(zero + 1 + 8)));
    entry.job_id.assign(key.substr(zero + 1 + 16));
    const std::string_view value = it->value().ToStringView();
    entry.seq = value.size() == 8 ? vk::DecodeU64(value) : 0;
  }
  if (!it->status().ok()) return ViewsIo(it->status());
  flush();
  return Ok();
}

Result<void> RocksJobStore::LoadLeaseIndex() {
  leases_.Clear();
  const std::string prefix =
      vk::IndexPrefix(vk::kDimStatus, StatusName(JobStatus::kRunning), 'c');
  std::vector<std::string> running;
  {
    std::unique_ptr<rocksdb::Iterator> it(views_->NewIterator(rocksdb::ReadOptions()));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      const std::string_view key = it->key().ToStringView();
      if (key.size() <= prefix.size() + vk::kIndexOrderBytes) {
        return DataLoss("views: a malformed list index row");
      }
      running.emplace_back(key.substr(prefix.size() + vk::kIndexOrderBytes));
    }
    if (!it->status().ok()) return ViewsIo(it->status());
  }
  for (const std::string& job_id : running) {
    BOOST_OUTCOME_TRY(job, CurrentJob(job_id));
    if (job.status == JobStatus::kRunning && !job.expired_at) leases_.Set(job_id, job.lease_deadline);
  }
  return Ok();
}

Result<JobView> RocksJobStore::LoadJob(std::string_view job_id,
                                       std::optional<uint64_t> at_version) {
  if (!at_version) return LatestJob(job_id);
  BOOST_OUTCOME_TRY(events, History(job_id));
  if (at_version && (*at_version == 0 || *at_version > events.size())) {
    return NotFound("VERSION_NOT_FOUND",
                    fmt::format("job '{}' has versions 1 to {}", job_id, events.size()));
  }
  if (at_version) events.resize(*at_version);
  return FoldEvents(events);
}

Result<std::string> RocksJobStore::FindByExternalRef(std::string_view external_ref) {
  const std::string prefix = vk::IndexPrefix(vk::kDimExternalRef, external_ref, 'c');
  std::unique_ptr<rocksdb::Iterator> it(views_->NewIterator(rocksdb::ReadOptions()));
  std::string upper = prefix;
  upper.append(vk::kIndexOrderBytes + 1, '\xff');
  it->SeekForPrev(upper);
  if (it->Valid() && it->key().starts_with(prefix)) {
    return std::string(it->key().ToStringView().substr(prefix.size() + vk::kIndexOrderBytes));
  }
  if (!it->status().ok()) return ViewsIo(it->status());
  return NotFound("JOB_NOT_FOUND", "no job has that external reference");
}

Result<std::vector<RecordedEvent>> RocksJobStore::Feed(uint64_t after, size_t limit) {
  auto stored = log_->ReadAll(after + 1, limit);
  if (!stored) return FromStoreError(stored.error());
  return DecodeAll(stored.value());
}

Result<ListPage> RocksJobStore::List(const ListQuery& query) {
  const rocksdb::Snapshot* snapshot = views_->GetSnapshot();
  auto page = query.text.empty() ? ReadListPage(views_.get(), snapshot, query)
                                 : ReadSearchPage(views_.get(), snapshot, query);
  views_->ReleaseSnapshot(snapshot);
  return page;
}

Result<std::vector<SeriesPoint>> RocksJobStore::Series(const SeriesQuery& query) {
  const rocksdb::Snapshot* snapshot = views_->GetSnapshot();
  auto points = ReadSeries(views_.get(), snapshot, query);
  views_->ReleaseSnapshot(snapshot);
  return points;
}

StatsSnapshot RocksJobStore::Stats() {
  std::lock_guard lock(projector_mu_);
  return projector_->stats().Snapshot();
}

}  // namespace jobtrail

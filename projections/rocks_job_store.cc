#include "projections/rocks_job_store.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <rocksdb/cache.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>

#include <filesystem>

#include "domain/job_id.h"
#include "projections/list_reader.h"
#include "projections/uuid.h"
#include "projections/view_keys.h"
#include "schemas/event_codec.h"

namespace jobtrail {
namespace vk = view_keys;
namespace fs = std::filesystem;

Error JobNotFound(std::string_view id) {
  return NotFound("JOB_NOT_FOUND", fmt::format("job '{}' not found", id));
}

namespace {

constexpr size_t kProjectionBatch = 2048;
constexpr auto kProjectionPoll = std::chrono::milliseconds(200);
constexpr auto kReadYourWritesTimeout = std::chrono::seconds(30);
constexpr int kUnconditionalRetries = 8;

bool ValidJobId(std::string_view id) { return IsValidJobId(id); }

Error ViewsIo(const rocksdb::Status& s) { return Internal(fmt::format("views: {}", s.ToString())); }

}  // namespace

Result<std::unique_ptr<JobStore>> JobStore::Open(const JobStoreOptions& options) {
  BOOST_OUTCOME_TRY(store, RocksJobStore::OpenStore(options));
  return std::unique_ptr<JobStore>(std::move(store));
}

Result<std::unique_ptr<RocksJobStore>> RocksJobStore::OpenStore(const JobStoreOptions& options) {
  std::error_code ec;
  const fs::path dir(options.data_dir);
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
  } else if (!fs::exists(dir / "log", ec) && !fs::is_empty(dir, ec)) {
    return MakeError(Code::kDataLoss, "NOT_A_DATA_DIR",
                     fmt::format("'{}' is not empty and is not a jobtrail data directory "
                                 "(no log/ inside); refusing to touch it",
                                 options.data_dir));
  } else if (!fs::exists(dir / "log", ec) && !options.create_if_missing) {
    return NotFound("DATA_DIR_NOT_FOUND",
                    fmt::format("'{}' holds no jobtrail data", options.data_dir));
  }

  std::unique_ptr<RocksJobStore> store(new RocksJobStore());
  store->options_ = options;
  store->clock_ = options.clock != nullptr ? options.clock : &store->system_clock_;
  eventstore::RocksEventLogOptions log_options;
  log_options.durability =
      options.sync ? eventstore::Durability::kSync : eventstore::Durability::kNoSync;
  log_options.create_if_missing = options.create_if_missing;
  auto log = eventstore::RocksEventLog::Open((dir / "log").string(), log_options);
  if (!log) return FromStoreError(log.error());
  store->log_ = std::move(log).value();
  store->views_dir_ = (dir / "views").string();
  BOOST_OUTCOME_TRYV(store->OpenViews(true));
  BOOST_OUTCOME_TRY(book, ScheduleBook::Open((dir / "schedules.json").string(),
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
  store->StartProjection();
  return store;
}

Result<void> RocksJobStore::OpenViews(bool create) {
  rocksdb::Options opts;
  opts.create_if_missing = create;
  opts.IncreaseParallelism(2);
  opts.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  opts.max_open_files = 512;
  // Polls are point reads of status documents: keep them cached, and let
  // bloom filters skip files that cannot hold the key.
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(256 << 20);
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.cache_index_and_filter_blocks = true;
  opts.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(opts, views_dir_, &raw);
  if (!s.ok()) return ViewsIo(s);
  views_.reset(raw);
  std::string marker;
  s = views_->Get(rocksdb::ReadOptions(), vk::kFormatKey, &marker);
  if (s.IsNotFound()) {
    s = views_->Put(rocksdb::WriteOptions(), vk::kFormatKey, vk::kViewsFormat);
    if (!s.ok()) return ViewsIo(s);
  } else if (!s.ok()) {
    return ViewsIo(s);
  } else if (marker != vk::kViewsFormat) {
    return DataLoss(fmt::format("read models have unknown format '{}'; run `jobtrail rebuild`",
                                marker));
  }
  status_cache_.Clear();
  projector_ = std::make_unique<Projector>(views_.get(), log_.get(), &status_cache_);
  BOOST_OUTCOME_TRYV(projector_->Load());
  {
    std::lock_guard lock(progress_mu_);
    projected_ = projector_->checkpoint();
    projection_error_.clear();
  }
  return Ok();
}

void RocksJobStore::StartProjection() {
  stop_ = false;
  ready_at_ = log_->LastPosition();
  ready_ = projector_->checkpoint() >= ready_at_;
  subscription_ = log_->Subscribe(projector_->checkpoint());
  projection_thread_ = std::thread([this] { ProjectionLoop(); });
}

void RocksJobStore::StopProjection() {
  stop_ = true;
  if (subscription_) subscription_->Cancel();
  if (projection_thread_.joinable()) projection_thread_.join();
  subscription_.reset();
}

RocksJobStore::~RocksJobStore() {
  StopProjection();
  projector_.reset();
  if (views_) {
    // The views are written without a WAL: flush them so a clean restart
    // resumes from here rather than from the last automatic flush.
    (void)views_->Flush(rocksdb::FlushOptions());  // a failed flush only costs replay
    (void)views_->Close();  // nothing to do about a failed close at exit
  }
}

void RocksJobStore::ProjectionLoop() {
  while (!stop_) {
    auto batch = subscription_->Next(kProjectionBatch, kProjectionPoll);
    if (!batch) {
      spdlog::error("projection: reading the log failed: {}", batch.error().message);
      std::lock_guard lock(progress_mu_);
      projection_error_ = batch.error().message;
      progress_cv_.notify_all();
      return;
    }
    if (batch.value().empty()) continue;
    Result<void> applied = Ok();
    uint64_t checkpoint = 0;
    {
      std::lock_guard lock(projector_mu_);
      applied = projector_->ApplyBatch(batch.value());
      checkpoint = projector_->checkpoint();
    }
    std::lock_guard lock(progress_mu_);
    if (!applied) {
      spdlog::error("projection stopped: {}", applied.error().ToString());
      projection_error_ = applied.error().ToString();
      progress_cv_.notify_all();
      return;
    }
    projected_ = checkpoint;
    if (projected_ >= ready_at_) ready_ = true;
    progress_cv_.notify_all();
  }
}

Result<void> RocksJobStore::WaitProjected(uint64_t position) {
  std::unique_lock lock(progress_mu_);
  const bool done = progress_cv_.wait_for(lock, kReadYourWritesTimeout, [&] {
    return projected_ >= position || !projection_error_.empty();
  });
  if (projected_ >= position) return Ok();
  if (!projection_error_.empty()) {
    return MakeError(Code::kUnavailable, "PROJECTION_FAILED",
                     "the write is durable but the read models stopped: " + projection_error_);
  }
  (void)done;
  return MakeError(Code::kUnavailable, "PROJECTION_LAGGING",
                   "the write is durable but the read models have not caught up yet");
}

Result<WriteOutcome> RocksJobStore::Enqueue(EnqueueRequest request) {
  Enqueued& spec = request.spec;
  if (spec.queue.empty()) spec.queue = "default";
  BOOST_OUTCOME_TRYV(CheckTransition(JobView{}, spec));
  std::string event_id;
  if (request.job_id.empty()) {
    request.job_id = spec.idempotency_key.empty()
                         ? RandomUuid()
                         : NameUuid("jobtrail-idempotency:" + spec.owner, spec.idempotency_key);
  } else if (!ValidJobId(request.job_id)) {
    return InvalidArgument(fmt::format("job id must be {}", kJobIdRule));
  }
  // The enqueued event's id makes a repeat with the same idempotency key
  // a no-op that answers the original append.
  event_id = !request.event_id.empty()         ? request.event_id
             : spec.idempotency_key.empty() ? RandomUuid()
                 : NameUuid("jobtrail-enqueue:" + spec.owner, spec.idempotency_key);

  std::unique_lock<std::mutex> unique_lock;
  if (!spec.unique_key.empty()) {
    // While a job holding the key is not final, the key names that job.
    unique_lock = std::unique_lock(unique_mu_);
    std::string holder;
    rocksdb::Status s =
        views_->Get(rocksdb::ReadOptions(), vk::UniqueKey(spec.unique_key), &holder);
    if (s.ok()) {
      auto doc = Status(holder);
      if (doc && !IsFinal(doc.value().status)) {
        return WriteOutcome{holder, doc.value().version, 0, doc.value().status, true};
      }
    } else if (!s.IsNotFound()) {
      return ViewsIo(s);
    }
  }
  RecordedEvent event;
  event.event_id = event_id;
  event.job_id = request.job_id;
  event.version = 1;
  event.timestamp = request.timestamp.value_or(clock_->Now());
  event.actor = request.actor;
  event.body = spec;
  std::vector<eventstore::EventToAppend> batch;
  batch.push_back({event_id, EncodeEvent(event)});
  auto appended = log_->Append(request.job_id, eventstore::kNoStream, std::move(batch));
  if (!appended) {
    if (appended.error().code == eventstore::StoreCode::kWrongExpectedVersion) {
      return MakeError(Code::kAlreadyExists, "JOB_EXISTS",
                       fmt::format("job '{}' already exists", request.job_id));
    }
    if (appended.error().code == eventstore::StoreCode::kInvalidArgument) {
      // The event id is taken by another stream: the same idempotency key
      // was used for a different job id.
      return MakeError(Code::kAlreadyExists, "IDEMPOTENCY_KEY_REUSED",
                       "the idempotency key was already used for another job");
    }
    return FromStoreError(appended.error());
  }
  const auto& r = appended.value();
  BOOST_OUTCOME_TRYV(WaitProjected(r.last_position));
  WriteOutcome out{request.job_id, r.last_version, r.last_position, JobStatus::kPending,
                   r.duplicate};
  if (r.duplicate) {
    // The original enqueue: the job as it stands now, folded from the log
    // when its views are gone (it expired).
    if (auto doc = Status(request.job_id)) {
      out.version = doc.value().version;
      out.status = doc.value().status;
    } else {
      BOOST_OUTCOME_TRY(events, AuditHistory(request.job_id));
      BOOST_OUTCOME_TRY(job, FoldEvents(events));
      out.version = job.version;
      out.status = job.status;
    }
  }
  return out;
}

Result<WriteOutcome> RocksJobStore::Append(AppendRequest request) {
  if (request.events.empty()) return InvalidArgument("at least one event is required");
  if (!request.event_ids.empty() && request.event_ids.size() != request.events.size()) {
    return InvalidArgument("give an event id for every event, or for none");
  }
  for (const EventBody& body : request.events) {
    if (KindOf(body) == EventKind::kEnqueued) {
      return InvalidArgument("jobs are enqueued with POST /v1/jobs, not appended");
    }
  }
  if (!ValidJobId(request.job_id)) return JobNotFound(request.job_id);
  for (int attempt = 0;; ++attempt) {
    auto result = TryAppend(request);
    if (result && !result.value().duplicate && result.value().status == JobStatus::kRunning &&
        std::holds_alternative<Errored>(request.events.back()) && request.actor != "system") {
      // A leased attempt is under the store's supervision: the store
      // decides the retry (see RetryAfterWorkerError).
      auto job = LoadJob(request.job_id, std::nullopt);
      if (job && job.value().lease_deadline) {
        BOOST_OUTCOME_TRYV(RetryAfterWorkerError(request.job_id));
        BOOST_OUTCOME_TRY(now, LoadJob(request.job_id, std::nullopt));
        result.value().status = now.status;
        result.value().version = now.version;
        result.value().position = now.last_position;
      }
    }
    // Without If-Match the caller asked for "apply to whatever is current":
    // a race with another writer is retried against the new state.
    if (!result && result.error().code == Code::kAborted && !request.expected_version &&
        attempt < kUnconditionalRetries) {
      continue;
    }
    return result;
  }
}

Result<WriteOutcome> RocksJobStore::TryAppend(const AppendRequest& request) {
  auto stored = log_->ReadStream(request.job_id, 1, std::numeric_limits<size_t>::max());
  if (!stored) return FromStoreError(stored.error());
  if (stored.value().empty()) return JobNotFound(request.job_id);
  JobView job;
  for (const auto& s : stored.value()) {
    BOOST_OUTCOME_TRY(e, DecodeStored(s));
    BOOST_OUTCOME_TRYV(ApplyEvent(job, e));
  }
  // A retry of an append that already landed (same client event ids)
  // answers the original result instead of failing the state machine.
  if (!request.event_ids.empty() && !request.event_ids.front().empty()) {
    const auto& events = stored.value();
    for (size_t i = 0; i < events.size(); ++i) {
      if (events[i].event_id != request.event_ids.front()) continue;
      const size_t n = request.event_ids.size();
      for (size_t k = 0; k < n; ++k) {
        if (i + k >= events.size() || events[i + k].event_id != request.event_ids[k]) {
          return InvalidArgument("event ids were already used for a different append");
        }
      }
      return WriteOutcome{request.job_id, events[i + n - 1].version, events[i + n - 1].position,
                          job.status, true};
    }
  }
  // A job past its retention takes no more events (but its expiry); an
  // import (which keeps original timestamps) replays history as it was.
  if (!request.timestamp && PastRetention(job.spec.type, job.created_at) &&
      !std::holds_alternative<Expired>(request.events.front())) {
    return JobNotFound(request.job_id);
  }
  if (request.expected_version && *request.expected_version != job.version) {
    return MakeError(Code::kAborted, "VERSION_CONFLICT",
                     fmt::format("job is at version {}, not {}", job.version,
                                 *request.expected_version));
  }
  const Millis now = request.timestamp.value_or(clock_->Now());
  std::vector<eventstore::EventToAppend> batch;
  for (size_t i = 0; i < request.events.size(); ++i) {
    RecordedEvent e;
    e.event_id = request.event_ids.empty() || request.event_ids[i].empty()
                     ? RandomUuid()
                     : request.event_ids[i];
    e.job_id = request.job_id;
    e.version = job.version + 1;
    e.timestamp = now;
    e.actor = request.actor;
    e.body = request.events[i];
    // "The current/next attempt" (0) is recorded as its number, so the log
    // reads on its own.
    if (auto* started = std::get_if<Started>(&e.body); started && started->attempt == 0) {
      started->attempt = job.attempts + 1;
    } else if (auto* errored = std::get_if<Errored>(&e.body); errored && errored->attempt == 0) {
      errored->attempt = job.attempts;
    } else if (auto* retried = std::get_if<Retried>(&e.body); retried && retried->attempt == 0) {
      retried->attempt = job.attempts + 1;
    }
    BOOST_OUTCOME_TRYV(ApplyEvent(job, e));
    batch.push_back({e.event_id, EncodeEvent(e)});
  }
  const uint64_t base_version = job.version - request.events.size();
  auto appended = log_->Append(request.job_id, base_version, std::move(batch));
  if (!appended) {
    if (appended.error().code == eventstore::StoreCode::kWrongExpectedVersion) {
      // The winning append may still be syncing (the log validates against
      // written-but-unsynced groups). Let it become readable, so a retry
      // folds the state the conflict was about.
      WaitReadable(request.job_id, appended.error().current_version);
      return MakeError(Code::kAborted, "VERSION_CONFLICT",
                       fmt::format("job is at version {}, not {}",
                                   appended.error().current_version, base_version));
    }
    return FromStoreError(appended.error());
  }
  const auto& r = appended.value();
  BOOST_OUTCOME_TRYV(WaitProjected(r.last_position));
  WriteOutcome out{request.job_id, r.last_version, r.last_position, job.status, r.duplicate};
  if (r.duplicate) {
    BOOST_OUTCOME_TRY(doc, Status(request.job_id));
    out.status = doc.status;
    out.version = doc.version;
  }
  return out;
}

void RocksJobStore::WaitReadable(const std::string& job_id, uint64_t version) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    auto current = log_->StreamVersion(job_id);
    if (!current || current.value() >= version) return;
    log_->WaitForCommitAfter(log_->LastPosition(), deadline, nullptr);
  }
}

bool RocksJobStore::PastRetention(std::string_view type, Millis created_at) const {
  if (options_.retention_by_type.empty()) return false;
  auto it = options_.retention_by_type.find(std::string(type));
  return it != options_.retention_by_type.end() && clock_->Now() - created_at >= it->second;
}

Result<StatusDocument> RocksJobStore::Status(std::string_view job_id) {
  if (!ValidJobId(job_id)) return JobNotFound(job_id);
  if (auto cached = status_cache_.Get(job_id)) {
    // Past its retention a job is gone, whether or not a maintenance pass
    // has expired it yet.
    if (PastRetention(cached->type, cached->created_at)) return JobNotFound(job_id);
    return *cached;
  }
  std::string value;
  rocksdb::Status s = views_->Get(rocksdb::ReadOptions(), vk::JobKey(job_id), &value);
  if (s.IsNotFound()) return JobNotFound(job_id);
  if (!s.ok()) return ViewsIo(s);
  BOOST_OUTCOME_TRY(doc, DecodeStatusRecord(value));
  if (PastRetention(doc.type, doc.created_at)) return JobNotFound(job_id);
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
      (enqueued != nullptr && PastRetention(enqueued->type, events.front().timestamp))) {
    return JobNotFound(job_id);
  }
  return std::move(events);
}

Result<JobView> RocksJobStore::LoadJob(std::string_view job_id,
                                       std::optional<uint64_t> at_version) {
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
  upper.append(9, '\xff');
  it->SeekForPrev(upper);
  if (it->Valid() && it->key().starts_with(prefix)) {
    return std::string(it->key().ToStringView().substr(prefix.size() + 8));
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
  auto page = ReadListPage(views_.get(), snapshot, query);
  views_->ReleaseSnapshot(snapshot);
  return page;
}

StatsSnapshot RocksJobStore::Stats() {
  std::lock_guard lock(projector_mu_);
  return projector_->stats().Snapshot();
}

ProjectionProgress RocksJobStore::Progress() {
  std::lock_guard lock(progress_mu_);
  return ProjectionProgress{log_->LastPosition(), projected_, ready_.load()};
}

}  // namespace jobtrail

namespace jobtrail {

Result<void> RocksJobStore::Rebuild(const std::function<void(uint64_t, uint64_t)>& progress) {
  StopProjection();
  {
    std::lock_guard lock(projector_mu_);
    projector_.reset();
    if (views_) {
      (void)views_->Close();  // the views are about to be destroyed anyway
      views_.reset();
    }
    rocksdb::Status s = rocksdb::DestroyDB(views_dir_, rocksdb::Options());
    if (!s.ok()) return ViewsIo(s);
  }
  BOOST_OUTCOME_TRYV(OpenViews(true));
  const uint64_t last = log_->LastPosition();
  uint64_t position = 0;
  while (position < last) {
    auto batch = log_->ReadAll(position + 1, kProjectionBatch);
    if (!batch) return FromStoreError(batch.error());
    if (batch.value().empty()) break;
    {
      std::lock_guard lock(projector_mu_);
      BOOST_OUTCOME_TRYV(projector_->ApplyBatch(batch.value()));
    }
    position = batch.value().back().position;
    if (progress) progress(position, last);
  }
  {
    std::lock_guard lock(progress_mu_);
    projected_ = position;
  }
  rocksdb::FlushOptions flush;
  (void)views_->Flush(flush);  // durability of views is best effort: rebuildable
  StartProjection();
  return Ok();
}

}  // namespace jobtrail

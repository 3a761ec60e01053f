// JobStore's write path: enqueues, appends and batches. Each write is
// checked against the job's current state (the aggregate, from the
// AggregateCache completed from the log, so its cost does not grow with the
// job's history), encoded, appended with the expected version (the log's
// optimistic concurrency decides races), then waited for until the read
// models show it (read-your-writes). A batch prepares every write first and
// hands them to the log as one AppendMany: one atomic write, one sync.
#include <fmt/format.h>

#include <unordered_set>

#include "domain/job_id.h"
#include "projections/rocks_job_store.h"
#include "projections/uuid.h"
#include "projections/view_keys.h"
#include "schemas/event_codec.h"

namespace jobtrail {
namespace vk = view_keys;
namespace {

constexpr int kUnconditionalRetries = 8;

Result<void> CheckAppendRequest(const AppendRequest& request) {
  if (request.events.empty()) return InvalidArgument("at least one event is required");
  if (!request.event_ids.empty() && request.event_ids.size() != request.events.size()) {
    return InvalidArgument("give an event id for every event, or for none");
  }
  for (const EventBody& body : request.events) {
    if (KindOf(body) == EventKind::kEnqueued) {
      return InvalidArgument("jobs are enqueued with POST /v1/jobs, not appended");
    }
  }
  if (!IsValidJobId(request.job_id)) return JobNotFound(request.job_id);
  return Ok();
}

Error VersionConflict(uint64_t current, uint64_t expected) {
  return MakeError(Code::kAborted, "VERSION_CONFLICT",
                   fmt::format("job is at version {}, not {}", current, expected));
}

}  // namespace

Result<JobView> RocksJobStore::CurrentJob(std::string_view job_id, JobSource source) {
  std::shared_ptr<const JobView> cached = aggregates_.Get(job_id);
  if (cached && source == JobSource::kWriterCache) return *cached;
  const uint64_t from = cached ? cached->version + 1 : 1;
  auto stored = log_->ReadStream(job_id, from, std::numeric_limits<size_t>::max());
  if (!stored) return FromStoreError(stored.error());
  if (!cached && stored.value().empty()) return JobNotFound(job_id);
  if (stored.value().empty()) return *cached;
  auto job = std::make_shared<JobView>(cached ? *cached : JobView{});
  for (const auto& s : stored.value()) {
    BOOST_OUTCOME_TRY(e, DecodeStored(s));
    BOOST_OUTCOME_TRYV(ApplyEvent(*job, e));
  }
  JobView out = *job;
  aggregates_.Put(std::move(job));
  return out;
}

Result<RocksJobStore::PreparedWrite> RocksJobStore::PrepareEnqueue(EnqueueRequest& request) {
  Enqueued& spec = request.spec;
  if (spec.queue.empty()) spec.queue = "default";
  BOOST_OUTCOME_TRYV(CheckTransition(JobView{}, spec));
  if (request.job_id.empty()) {
    request.job_id = spec.idempotency_key.empty()
                         ? RandomUuid()
                         : NameUuid("jobtrail-idempotency:" + spec.owner, spec.idempotency_key);
  } else if (!IsValidJobId(request.job_id)) {
    return InvalidArgument(fmt::format("job id must be {}", kJobIdRule));
  }
  // The enqueued event's id makes a repeat with the same idempotency key
  // a no-op that answers the original append.
  const std::string event_id =
      !request.event_id.empty()         ? request.event_id
      : spec.idempotency_key.empty() ? RandomUuid()
          : NameUuid("jobtrail-enqueue:" + spec.owner, spec.idempotency_key);
  RecordedEvent event;
  event.event_id = event_id;
  event.job_id = request.job_id;
  event.version = 1;
  event.timestamp = request.timestamp.value_or(clock_->Now());
  event.actor = request.actor;
  event.body = spec;
  PreparedWrite p;
  p.enqueue = true;
  p.after = std::make_shared<JobView>();
  BOOST_OUTCOME_TRYV(ApplyEvent(*p.after, event));
  p.part.stream = request.job_id;
  p.part.expected_version = eventstore::kNoStream;
  p.part.events.push_back({event_id, EncodeEvent(event)});
  return p;
}

Result<RocksJobStore::PreparedWrite> RocksJobStore::PrepareAppend(const AppendRequest& request,
                                                                  const JobView& current) {
  // A job past its retention takes no more events (but its expiry); an
  // import (which keeps original timestamps) replays history as it was.
  if (!request.timestamp && PastRetention(current.spec.type, current.created_at, current.status) &&
      !std::holds_alternative<Expired>(request.events.front())) {
    return JobNotFound(request.job_id);
  }
  if (request.expected_version && *request.expected_version != current.version) {
    return VersionConflict(current.version, *request.expected_version);
  }
  PreparedWrite p;
  p.after = std::make_shared<JobView>(current);
  JobView& job = *p.after;
  const Millis now = request.timestamp.value_or(clock_->Now());
  auto add = [&](EventBody body, std::string event_id, const std::string& actor) -> Result<void> {
    RecordedEvent e;
    e.event_id = event_id.empty() ? RandomUuid() : std::move(event_id);
    e.job_id = request.job_id;
    e.version = job.version + 1;
    e.timestamp = now;
    e.actor = actor;
    e.body = std::move(body);
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
    p.part.events.push_back({e.event_id, EncodeEvent(e)});
    return Ok();
  };
  for (size_t i = 0; i < request.events.size(); ++i) {
    BOOST_OUTCOME_TRYV(add(request.events[i],
                           request.event_ids.empty() ? std::string() : request.event_ids[i],
                           request.actor));
  }
  // A leased attempt is under the store's supervision: after a worker's
  // error the store decides, in the same append, to retry (by the policy's
  // backoff) or fail the job.
  if (std::holds_alternative<Errored>(request.events.back()) && request.actor != "system" &&
      job.status == JobStatus::kRunning && job.lease_deadline) {
    BOOST_OUTCOME_TRYV(add(FollowUpToError(job, now), std::string(), "system"));
  }
  p.part.stream = request.job_id;
  p.part.expected_version = current.version;
  return p;
}

Result<std::optional<WriteOutcome>> RocksJobStore::FindRetriedAppend(const AppendRequest& request) {
  if (request.event_ids.empty() || request.event_ids.front().empty()) return std::nullopt;
  // Rare (a client retrying an append that landed): read the stream.
  auto stored = log_->ReadStream(request.job_id, 1, std::numeric_limits<size_t>::max());
  if (!stored) return FromStoreError(stored.error());
  const auto& events = stored.value();
  for (size_t i = 0; i < events.size(); ++i) {
    if (events[i].event_id != request.event_ids.front()) continue;
    const size_t n = request.event_ids.size();
    for (size_t k = 0; k < n; ++k) {
      if (i + k >= events.size() || events[i + k].event_id != request.event_ids[k]) {
        return InvalidArgument("event ids were already used for a different append");
      }
    }
    BOOST_OUTCOME_TRY(job, CurrentJob(request.job_id));
    return std::optional<WriteOutcome>{WriteOutcome{request.job_id, events[i + n - 1].version,
                                                    events[i + n - 1].position, job.status,
                                                    true}};
  }
  return std::nullopt;
}

Result<WriteOutcome> RocksJobStore::Settle(PreparedWrite& p,
                                           eventstore::StoreResult<eventstore::AppendResult> r) {
  if (!r) {
    if (r.error().code == eventstore::StoreCode::kWrongExpectedVersion) {
      if (p.enqueue) {
        return MakeError(Code::kAlreadyExists, "JOB_EXISTS",
                         fmt::format("job '{}' already exists", p.part.stream));
      }
      // The winning append may still be syncing (the log validates against
      // written-but-unsynced groups). Let it become readable, so a retry
      // folds the state the conflict was about.
      WaitReadable(p.part.stream, r.error().current_version);
      return VersionConflict(r.error().current_version, p.part.expected_version);
    }
    if (p.enqueue && r.error().code == eventstore::StoreCode::kInvalidArgument) {
      // The event id is taken by another stream: the same idempotency key
      // was used for a different job id.
      return MakeError(Code::kAlreadyExists, "IDEMPOTENCY_KEY_REUSED",
                       "the idempotency key was already used for another job");
    }
    return FromStoreError(r.error());
  }
  const eventstore::AppendResult& a = r.value();
  WriteOutcome out{p.part.stream, a.last_version, a.last_position, p.after->status, a.duplicate};
  if (!a.duplicate) {
    // The fold was made before the log placed the events: give it their
    // positions. The enqueue's is what the cache keeps a backlog's oldest
    // jobs by; left at 0 for every job, a full cache could drop none of
    // them, grew past its bound and scanned itself at every enqueue (a
    // backlog of 1,000,000 jobs: over 25 minutes to enqueue).
    p.after->last_position = a.last_position;
    if (a.first_version == 1) p.after->created_position = a.first_position;
    aggregates_.Put(p.after);
  }
  return out;
}

// An idempotent repeat answers the job as it stands now (read after the
// write is projected), folded from the log when its views are gone.
Result<void> RocksJobStore::CompleteDuplicate(WriteOutcome& out) {
  if (!out.duplicate) return Ok();
  if (auto doc = Status(out.job_id)) {
    out.version = doc.value().version;
    out.status = doc.value().status;
    return Ok();
  }
  BOOST_OUTCOME_TRY(events, AuditHistory(out.job_id));
  BOOST_OUTCOME_TRY(job, FoldEvents(events));
  out.version = job.version;
  out.status = job.status;
  return Ok();
}

Result<WriteOutcome> RocksJobStore::Enqueue(EnqueueRequest request) {
  BOOST_OUTCOME_TRY(prepared, PrepareEnqueue(request));
  BOOST_OUTCOME_TRYV(CheckWritable());
  std::unique_lock<std::mutex> unique_lock;
  const Enqueued& spec = request.spec;
  if (!spec.unique_key.empty()) {
    // While a job of the owner holding the key is not final, the key names
    // that job.
    unique_lock = std::unique_lock(unique_mu_);
    std::string holder;
    rocksdb::Status s = views_->Get(rocksdb::ReadOptions(),
                                    vk::UniqueKey(spec.owner, spec.unique_key), &holder);
    if (s.ok()) {
      auto doc = Status(holder);
      if (doc && !IsFinal(doc.value().status)) {
        return WriteOutcome{holder, doc.value().version, 0, doc.value().status, true};
      }
    } else if (!s.IsNotFound()) {
      return Internal(fmt::format("views: {}", s.ToString()));
    }
  }
  auto appended = log_->Append(prepared.part.stream, prepared.part.expected_version,
                               prepared.part.events);
  BOOST_OUTCOME_TRY(out, Settle(prepared, std::move(appended)));
  BOOST_OUTCOME_TRYV(WaitProjected(out.position));
  BOOST_OUTCOME_TRYV(CompleteDuplicate(out));
  return out;
}

Result<WriteOutcome> RocksJobStore::Append(AppendRequest request) {
  BOOST_OUTCOME_TRYV(CheckAppendRequest(request));
  for (int attempt = 0;; ++attempt) {
    auto result = TryAppend(request);
    // Without If-Match the caller asked for "apply to whatever is current":
    // a race with another writer is retried against the new state.
    if (!result && result.error().code == Code::kAborted && !request.expected_version &&
        attempt < kUnconditionalRetries) {
      continue;
    }
    if (!result) {
      // A retry of an append that already landed (same client event ids)
      // answers the original result instead of the refusal.
      BOOST_OUTCOME_TRY(retried, FindRetriedAppend(request));
      if (retried) return *retried;
      return result.error();
    }
    BOOST_OUTCOME_TRYV(WaitProjected(result.value().position));
    BOOST_OUTCOME_TRYV(CompleteDuplicate(result.value()));
    return result;
  }
}

Result<WriteOutcome> RocksJobStore::TryAppend(const AppendRequest& request) {
  // First against the cached fold, with no read of the log (the append's
  // expected version makes the log check it); a refusal or a conflict is
  // decided again against the log as it is.
  if (std::shared_ptr<const JobView> cached = aggregates_.Get(request.job_id)) {
    auto fast = TryAppendTo(request, *cached);
    if (fast) return fast;
  }
  BOOST_OUTCOME_TRY(job, CurrentJob(request.job_id));
  return TryAppendTo(request, job);
}

Result<WriteOutcome> RocksJobStore::TryAppendTo(const AppendRequest& request,
                                                const JobView& job) {
  BOOST_OUTCOME_TRY(prepared, PrepareAppend(request, job));
  BOOST_OUTCOME_TRYV(CheckWritable());
  auto appended = log_->Append(prepared.part.stream, prepared.part.expected_version,
                               prepared.part.events);
  return Settle(prepared, std::move(appended));
}

std::vector<Result<WriteOutcome>> RocksJobStore::WriteMany(std::vector<WriteCommand> commands) {
  std::vector<Result<WriteOutcome>> results(commands.size(), Internal("not run"));
  std::vector<PreparedWrite> prepared;
  std::vector<size_t> index_of;  // prepared[k] answers commands[index_of[k]]
  std::vector<eventstore::StreamAppend> parts;
  // Later commands to one job see the earlier ones of the batch.
  std::unordered_map<std::string, std::shared_ptr<JobView>> pending;
  // Appends prepared on the cached fold (and later ones to their jobs): a
  // conflict of theirs may only mean the fold was behind the log.
  std::vector<bool> from_cache(commands.size(), false);
  std::unordered_set<std::string> cached_streams;
  for (size_t i = 0; i < commands.size(); ++i) {
    Result<PreparedWrite> p = InvalidArgument("empty command");
    if (auto* enqueue = std::get_if<EnqueueRequest>(&commands[i])) {
      if (!enqueue->spec.unique_key.empty()) {
        // A unique key is checked and taken under its lock, one at a time.
        results[i] = Enqueue(std::move(*enqueue));
        continue;
      }
      p = PrepareEnqueue(*enqueue);
    } else {
      const AppendRequest& append = std::get<AppendRequest>(commands[i]);
      if (auto checked = CheckAppendRequest(append); !checked) {
        results[i] = checked.error();
        continue;
      }
      if (auto it = pending.find(append.job_id); it != pending.end()) {
        p = PrepareAppend(append, *it->second);
        from_cache[i] = cached_streams.contains(append.job_id);
      } else {
        // First on the cached fold, with no read of the log (see
        // TryAppend): a refusal is decided again on the log's state here,
        // a conflict after the append.
        std::shared_ptr<const JobView> cached = aggregates_.Get(append.job_id);
        if (cached) p = PrepareAppend(append, *cached);
        if (cached && p) {
          from_cache[i] = true;
          cached_streams.insert(append.job_id);
        } else {
          Result<JobView> current = CurrentJob(append.job_id);
          if (!current) {
            results[i] = current.error();
            continue;
          }
          p = PrepareAppend(append, current.value());
        }
      }
    }
    if (!p) {
      results[i] = p.error();
      continue;
    }
    pending[p.value().part.stream] = p.value().after;
    parts.push_back(p.value().part);
    prepared.push_back(std::move(p).value());
    index_of.push_back(i);
  }
  if (auto writable = CheckWritable(); !writable && !parts.empty()) {
    for (size_t k : index_of) results[k] = writable.error();
    return results;
  }
  auto appended = log_->AppendMany(std::move(parts));
  uint64_t last = 0;
  for (size_t k = 0; k < prepared.size(); ++k) {
    results[index_of[k]] = Settle(prepared[k], std::move(appended[k]));
    if (results[index_of[k]]) last = std::max(last, results[index_of[k]].value().position);
  }
  if (auto waited = WaitProjected(last); !waited) {
    for (size_t k : index_of) {
      if (results[k]) results[k] = waited.error();
    }
    return results;
  }
  for (size_t i = 0; i < commands.size(); ++i) {
    if (!results[i]) {
      if (auto* append = std::get_if<AppendRequest>(&commands[i])) {
        if (results[i].error().code == Code::kAborted &&
            (!append->expected_version || from_cache[i])) {
          // Lost a race it did not ask to detect, or the cached fold was
          // behind the log: decide it again on the log's state.
          results[i] = Append(std::move(*append));
        } else if (auto retried = FindRetriedAppend(*append); retried && retried.value()) {
          results[i] = *retried.value();
        }
      }
      continue;
    }
    if (auto done = CompleteDuplicate(results[i].value()); !done) results[i] = done.error();
  }
  return results;
}

void RocksJobStore::WaitReadable(const std::string& job_id, uint64_t version) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    auto current = log_->StreamVersion(job_id);
    if (!current || current.value() >= version) return;
    // Any log: a subscription at the head returns at its next commit.
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return;
    (void)log_->Subscribe(log_->LastPosition())->Next(1, left);  // a wait, not a read
  }
}

}  // namespace jobtrail

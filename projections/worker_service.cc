// The worker protocol of JobStore: claims with leases, heartbeats, the
// store's own retries (retry policy) and the maintenance pass that expires
// leases, and jobs past their retention or a cleanup's age. Every decision
// the store makes on its own is an event with actor "system", so an audit
// replay explains it.
#include <fmt/format.h>

#include <cstdint>
#include <random>

#include "domain/names.h"
#include "projections/job_json.h"
#include "projections/rocks_job_store.h"
#include "projections/view_keys.h"

namespace jobtrail {
namespace vk = view_keys;
namespace {

constexpr size_t kMaxClaim = 100;
constexpr Millis kMaxLeaseMs = 24 * 3600 * 1000;
constexpr int kHeartbeatRetries = 5;
constexpr size_t kMaintenanceScanLimit = 100000;
// Claim rounds when starts lose races (a job changed while being claimed).
constexpr int kClaimRounds = 3;

}  // namespace

RetryPolicy RocksJobStore::PolicyFor(const JobView& job) const {
  RetryPolicy policy = options_.default_retry;
  if (auto it = options_.retry_by_type.find(job.spec.type); it != options_.retry_by_type.end()) {
    policy = it->second;
  }
  policy.max_attempts = job.spec.max_attempts;
  if (job.spec.retry_backoff == "fixed") policy.backoff = RetryPolicy::Backoff::kFixed;
  if (job.spec.retry_backoff == "exponential") policy.backoff = RetryPolicy::Backoff::kExponential;
  if (job.spec.retry_base_delay_ms) policy.base_delay_ms = *job.spec.retry_base_delay_ms;
  if (job.spec.retry_max_delay_ms) policy.max_delay_ms = *job.spec.retry_max_delay_ms;
  return policy;
}

double RocksJobStore::UnitRandom() {
  if (options_.random) return options_.random();
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

// The store's follow-up to an error in the current attempt: a retry after
// the policy's backoff, or failure when no attempts are left.
EventBody RocksJobStore::FollowUpToError(const JobView& job, Millis now) {
  if (job.attempts < job.spec.max_attempts) {
    const Millis delay = PolicyFor(job).DelayBeforeAttempt(job.attempts + 1, UnitRandom());
    return Retried{job.attempts + 1, now + delay, delay};
  }
  return Failed{};  // inherits the last error as the final error
}

Result<std::vector<ClaimedJob>> RocksJobStore::Claim(const ClaimRequest& request) {
  BOOST_OUTCOME_TRY(out, AppendAndClaim({}, request));
  return std::move(out.jobs);
}

// Candidates come from the in-memory ClaimIndex (taken out of it, so two
// claimers never propose the same job), are checked against each job's
// current state, and get their started events in one WriteMany with the
// caller's appends: K jobs cost one commit. The expected version on each
// started event is what makes a double claim impossible, whatever the index
// says; a job whose start lost a race goes back to the index if it is
// still claimable.
Result<ClaimOutcome> RocksJobStore::AppendAndClaim(std::vector<AppendRequest> appends,
                                                   const ClaimRequest& request) {
  if (request.queue.empty()) return InvalidArgument("queue is required");
  BOOST_OUTCOME_TRYV(CheckName("queue", request.queue));
  if (request.worker_id.empty()) return InvalidArgument("worker_id is required");
  if ((request.max_jobs == 0 && appends.empty()) || request.max_jobs > kMaxClaim) {
    return InvalidArgument(fmt::format("max_jobs must be between 1 and {}", kMaxClaim));
  }
  if (request.lease_ms <= 0 || request.lease_ms > kMaxLeaseMs) {
    return InvalidArgument(fmt::format("lease must be between 1 ms and {} ms", kMaxLeaseMs));
  }
  if (appends.size() > kMaxClaim) {
    return InvalidArgument(fmt::format("at most {} appends ride along a claim", kMaxClaim));
  }
  // A worker told 503 backs off; an empty 200 would send it polling again.
  BOOST_OUTCOME_TRYV(CheckWritable());
  const Millis now = clock_->Now();
  const Millis deadline = now + request.lease_ms;
  const std::string actor = request.actor.empty() ? request.worker_id : request.actor;
  ClaimOutcome out;
  const size_t append_count = appends.size();
  std::vector<WriteCommand> commands;
  for (AppendRequest& a : appends) commands.emplace_back(std::move(a));
  for (int round = 0; round < kClaimRounds; ++round) {
    std::vector<ClaimIndex::Entry> starting;
    bool unavailable = false;  // the log could not be read: claim no more
    while (!unavailable && starting.size() + out.jobs.size() < request.max_jobs) {
      auto taken = claims_.Take(request.queue, now,
                                request.max_jobs - out.jobs.size() - starting.size());
      if (taken.empty()) break;
      auto claimable = [&](const Result<JobView>& job) {
        return job && job.value().spec.queue == request.queue &&
               (job.value().status == JobStatus::kPending ||
                job.value().status == JobStatus::kRetrying);
      };
      for (size_t t = 0; t < taken.size(); ++t) {
        ClaimIndex::Entry& entry = taken[t];
        // The cached fold first (the Started append is checked against its
        // version); only the log may say the proposal is stale.
        auto job = LatestJob(entry.job_id, JobSource::kWriterCache);
        if (!claimable(job)) job = LatestJob(entry.job_id);
        if (!job && job.error().reason == "STORAGE_UNAVAILABLE") {
          // The job's events could not be read (a shared log lost its
          // primary): the proposals stay in the index, the worker backs off.
          for (size_t rest = t; rest < taken.size(); ++rest) {
            claims_.Upsert(request.queue, std::move(taken[rest]));
          }
          commands.resize(commands.size() - starting.size());
          for (ClaimIndex::Entry& e : starting) claims_.Upsert(request.queue, std::move(e));
          starting.clear();
          if (commands.empty() && out.jobs.empty()) return job.error();
          unavailable = true;
          break;
        }
        if (!job) continue;  // gone (expired); the index only proposed it
        const JobView& j = job.value();
        if (!claimable(job)) continue;  // claimed or finished meanwhile: a stale proposal
        AppendRequest start;
        start.job_id = entry.job_id;
        start.expected_version = j.version;
        start.actor = actor;
        start.events.push_back(Started{0, request.worker_id, deadline});
        commands.emplace_back(std::move(start));
        starting.push_back(std::move(entry));
      }
    }
    if (commands.empty()) break;
    auto results = WriteMany(std::move(commands));
    commands.clear();
    size_t k = 0;
    if (round == 0) {
      for (; k < append_count; ++k) out.appended.push_back(std::move(results[k]));
    }
    bool lost_race = false;
    for (size_t s = 0; s < starting.size(); ++s, ++k) {
      Result<WriteOutcome>& r = results[k];
      if (!r && r.error().reason == "STORAGE_UNAVAILABLE" && out.jobs.empty() &&
          append_count == 0) {
        // The disk failed under this claim: put the rest back, answer 503.
        for (size_t rest = s; rest < starting.size(); ++rest) {
          claims_.Upsert(request.queue, std::move(starting[rest]));
        }
        return r.error();
      }
      if (!r) {
        if (r.error().code != Code::kAborted && r.error().code != Code::kFailedPrecondition &&
            r.error().code != Code::kNotFound) {
          claims_.Upsert(request.queue, std::move(starting[s]));  // not started: keep it
          continue;
        }
        lost_race = true;
        // Changed under us (cancelled, claimed, logged to): back in line if
        // it can still be claimed; the projector does not re-add a job
        // whose claim row did not move.
        if (auto job = LatestJob(starting[s].job_id);
            job && (job.value().status == JobStatus::kPending ||
                    job.value().status == JobStatus::kRetrying)) {
          claims_.Upsert(request.queue, std::move(starting[s]));
        }
        continue;
      }
      auto doc = Status(r.value().job_id);
      if (!doc) return doc.error();
      auto job = aggregates_.Get(r.value().job_id);
      const int32_t attempt = job ? job->attempts : 0;
      out.jobs.push_back(ClaimedJob{r.value().job_id, doc.value().version, attempt, deadline,
                                    std::move(doc.value().json)});
    }
    if (unavailable || !lost_race || out.jobs.size() >= request.max_jobs) break;
  }
  CountClaimed(out.jobs.size());
  return out;
}

Result<HeartbeatOutcome> RocksJobStore::Heartbeat(const HeartbeatRequest& request) {
  if (request.lease_ms <= 0 || request.lease_ms > kMaxLeaseMs) {
    return InvalidArgument(fmt::format("lease must be between 1 ms and {} ms", kMaxLeaseMs));
  }
  if (request.percent && !(*request.percent >= 0 && *request.percent <= 100)) {
    return InvalidArgument("percent must be between 0 and 100");
  }
  for (int attempt = 0;; ++attempt) {
    // The first try folds nothing from the log (the cached fold: the
    // append checks its version); any answer but "keep working", and
    // every retry, comes from the log.
    Result<JobView> latest = LatestJob(
        request.job_id, attempt == 0 ? JobSource::kWriterCache : JobSource::kFromLog);
    if (attempt == 0 && !(latest && latest.value().status == JobStatus::kRunning &&
                          (request.worker_id.empty() ||
                           latest.value().worker_id == request.worker_id))) {
      latest = LatestJob(request.job_id);
    }
    BOOST_OUTCOME_TRY(job, std::move(latest));
    HeartbeatOutcome out;
    out.status = job.status;
    out.version = job.version;
    out.cancelled = job.status == JobStatus::kCancelled;
    if (job.status != JobStatus::kRunning) return out;  // stop working
    if (!request.worker_id.empty() && job.worker_id != request.worker_id) {
      return MakeError(Code::kFailedPrecondition, "LEASE_LOST",
                       fmt::format("job '{}' is held by worker '{}' now", request.job_id,
                                   job.worker_id));
    }
    const Millis deadline = clock_->Now() + request.lease_ms;
    AppendRequest beat;
    beat.job_id = request.job_id;
    beat.expected_version = job.version;
    beat.actor = !request.actor.empty()      ? request.actor
                 : request.worker_id.empty() ? job.worker_id
                                             : request.worker_id;
    beat.events.push_back(Progressed{request.percent, request.message, "", {}, deadline});
    auto written = Append(std::move(beat));
    if (!written) {
      if (written.error().code == Code::kAborted && attempt < kHeartbeatRetries) continue;
      return written.error();
    }
    out.version = written.value().version;
    out.keep_working = true;
    out.lease_deadline = deadline;
    return out;
  }
}

std::vector<std::string> RocksJobStore::IndexedBefore(std::string_view dim,
                                                      std::string_view value, char sort,
                                                      Millis cutoff) {
  std::vector<std::string> ids;
  const std::string prefix = vk::IndexPrefix(dim, value, sort);
  const std::string end = vk::IndexKey(dim, value, sort, cutoff, 0, "");
  std::unique_ptr<rocksdb::Iterator> it(views_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(prefix); it->Valid() && it->key().ToStringView() < std::string_view(end) &&
                         ids.size() < kMaintenanceScanLimit;
       it->Next()) {
    ids.emplace_back(it->key().ToStringView().substr(prefix.size() + vk::kIndexOrderBytes));
  }
  return ids;
}

Result<bool> RocksJobStore::ExpireJob(const std::string& job_id, std::string reason) {
  AppendRequest request;
  request.job_id = job_id;
  request.actor = "system";
  request.events.push_back(Expired{std::move(reason)});
  auto out = Append(std::move(request));
  if (!out) {
    // Expired meanwhile (by another pass): nothing to do.
    if (out.error().code == Code::kNotFound) return false;
    return out.error();
  }
  return true;
}

Result<MaintenanceReport> RocksJobStore::RunMaintenance(const MaintenanceOptions& options) {
  MaintenanceReport report;
  const Millis now = clock_->Now();
  const std::vector<std::string> expired = leases_.Before(now, SIZE_MAX, SIZE_MAX).ids;
  if (options.count_due) {
    // What is due now: retries whose time came and delayed jobs whose run-at
    // came (they are claimable; this pass only counts them). Only when
    // asked: the server's tick does not, and its seek alone, over the claim
    // rows every claimed job leaves deleted until compaction, cost an idle
    // server with 300,000 finished jobs a fifth of its CPU.
    std::unique_ptr<rocksdb::Iterator> it(views_->NewIterator(rocksdb::ReadOptions()));
    size_t scanned = 0;
    for (it->Seek("q"); it->Valid() && it->key().starts_with("q") && scanned < kMaintenanceScanLimit;
         it->Next(), ++scanned) {
      const std::string_view key = it->key().ToStringView();
      const size_t zero = key.find('\0');
      if (zero == std::string_view::npos || key.size() < zero + 1 + 16) continue;
      const Millis ready = vk::TimeFromSortable(vk::DecodeU64(key.substr(zero + 1 + 8)));
      if (ready > now) continue;
      auto doc = Status(key.substr(zero + 1 + 16));
      if (!doc) continue;
      if (doc.value().status == JobStatus::kRetrying) {
        ++report.due_retries;
      } else if (ready > doc.value().created_at) {
        ++report.due_delayed;
      }
    }
  }
  for (const std::string& job_id : expired) {
    auto loaded = LatestJob(job_id);
    if (!loaded) continue;
    const JobView& job = loaded.value();
    if (job.status != JobStatus::kRunning || !job.lease_deadline || *job.lease_deadline >= now) {
      continue;  // a heartbeat or a final event beat us to it
    }
    Errored expiry{job.attempts, "LeaseExpired",
                   fmt::format("lease of worker '{}' expired at {} without a heartbeat",
                               job.worker_id, FormatTime(*job.lease_deadline)),
                   "", "", {}};
    JobView errored = job;
    errored.errors.push_back(ErrorEntry{now, job.attempts, expiry.error_type, expiry.message,
                                        "", "", {}});
    AppendRequest request;
    request.job_id = job_id;
    request.expected_version = job.version;
    request.actor = "system";
    request.events.push_back(std::move(expiry));
    EventBody follow = FollowUpToError(errored, now);
    const bool retried = std::holds_alternative<Retried>(follow);
    request.events.push_back(std::move(follow));
    auto out = Append(std::move(request));
    if (!out) {
      if (out.error().code == Code::kAborted) continue;
      return out.error();
    }
    ++report.leases_expired;
    retried ? ++report.retried : ++report.failed;
  }
  // Retention, then cleanup: each expired job is an event (actor "system"),
  // so the read models drop it the same way live and on rebuild.
  BOOST_OUTCOME_TRYV(ExpireByRetention(now, report));  // retention.cc
  if (options.cleanup_older_than_ms) {
    const Millis cutoff = now - *options.cleanup_older_than_ms;
    for (JobStatus final_status : {JobStatus::kCompleted, JobStatus::kFailed,
                                   JobStatus::kCancelled}) {
      for (const std::string& job_id :
           IndexedBefore(vk::kDimStatus, StatusName(final_status), 'u', cutoff)) {
        BOOST_OUTCOME_TRY(done, ExpireJob(job_id, "cleanup"));
        if (done) ++report.cleaned;
      }
    }
  }
  return report;
}

}  // namespace jobtrail

// Moved here from projector.cc (UpdateIndexes, RemoveJob) so that the
// rebuild writes exactly the projector's rows.
#include "projections/view_rows.h"

#include "projections/view_keys.h"

namespace jobtrail {
namespace vk = view_keys;
namespace {

bool Claimable(const JobView& j) {
  return j.status == JobStatus::kPending || j.status == JobStatus::kRetrying;
}
// A job holds its unique key until it is first final: one retried by hand
// afterwards does not take it back (another job may hold it by then).
bool HoldsUniqueKey(const JobView& j) {
  return !j.spec.unique_key.empty() && !IsFinal(j.status) && j.manual_retries == 0;
}
Millis ReadyAt(const JobView& j) {
  return j.status == JobStatus::kPending ? j.spec.run_at.value_or(j.created_at)
                                         : j.next_retry_at.value_or(j.updated_at);
}

// The job in its status, counted per type, queue and owner: what an
// owner's (every caller's own list) or a queue's list by status totals
// with a read each, where it walked every job of the owner or queue. Only
// a status change moves them: a batch sums them first (RowSink::Count), so
// a batch of one queue's jobs writes a few rows, not a few per job.
void CountByStatus(const JobView& job, int64_t delta, RowSink& sink) {
  const std::string_view status = StatusName(job.status);
  const std::pair<std::string_view, std::string_view> dims[] = {
      {vk::kDimType, job.spec.type}, {vk::kDimQueue, job.spec.queue}, {vk::kDimOwner, job.spec.owner}};
  for (const auto& [dim, value] : dims) {
    if (!value.empty()) sink.Count(vk::StatusCountKey(dim, value, status), delta);
  }
}

}  // namespace

void UpdateIndexRows(const JobView& before, const JobView& after, RowSink& sink) {
  const std::string& id = after.job_id;
  const bool is_new = before.status == JobStatus::kNone;
  auto add = [&](std::string_view dim, std::string_view value, char sort, Millis ts) {
    const uint64_t pos = sort == 'c' ? after.created_position : after.last_position;
    sink.Put(vk::IndexKey(dim, value, sort, ts, pos, id), "");
  };
  auto remove = [&](std::string_view dim, std::string_view value, char sort, Millis ts) {
    const uint64_t pos = sort == 'c' ? before.created_position : before.last_position;
    sink.Delete(vk::IndexKey(dim, value, sort, ts, pos, id));
  };
  auto count = [&](std::string_view dim, std::string_view value, int64_t delta) {
    sink.Count(vk::CountKey(dim, value), delta);
  };
  const std::string_view new_status = StatusName(after.status);
  if (is_new) {
    const std::pair<std::string_view, std::string_view> fixed[] = {
        {vk::kDimAll, ""},
        {vk::kDimType, after.spec.type},
        {vk::kDimQueue, after.spec.queue},
        {vk::kDimOwner, after.spec.owner},
        {vk::kDimExternalRef, after.spec.external_ref}};
    for (const auto& [dim, value] : fixed) {
      if (dim != vk::kDimAll && value.empty()) continue;
      add(dim, value, 'c', after.created_at);
      count(dim, value, 1);
    }
  }
  if (before.status != after.status) {
    if (!is_new) {
      remove(vk::kDimStatus, StatusName(before.status), 'c', before.created_at);
      count(vk::kDimStatus, StatusName(before.status), -1);
      CountByStatus(before, -1, sink);
    }
    add(vk::kDimStatus, new_status, 'c', after.created_at);
    count(vk::kDimStatus, new_status, 1);
    CountByStatus(after, 1, sink);
  }
  // Updated-time order: per status only. Listing any status by it merges
  // the status indexes (list_reader.cc); an "all" index would cost every
  // event two more rows.
  if (!is_new) remove(vk::kDimStatus, StatusName(before.status), 'u', before.updated_at);
  add(vk::kDimStatus, new_status, 'u', after.updated_at);

  // A claim row is rewritten only when it moves. Its value, the enqueue's
  // log position, breaks ties of priority and ready time by age.
  const bool was = Claimable(before);
  const bool is = Claimable(after);
  if (was != is || (is && ReadyAt(before) != ReadyAt(after))) {
    if (was) {
      sink.Delete(vk::ClaimKey(before.spec.queue, before.spec.priority, ReadyAt(before), id));
      sink.ClaimChanged(before.spec.queue, {id, 0, 0, 0}, true);
    }
    if (is) {
      sink.Put(vk::ClaimKey(after.spec.queue, after.spec.priority, ReadyAt(after), id),
               vk::EncodeU64(after.created_position));
      sink.ClaimChanged(after.spec.queue,
                        {id, after.spec.priority, ReadyAt(after), after.created_position}, false);
    }
  }
  if (!after.spec.unique_key.empty()) {
    const std::string key = vk::UniqueKey(after.spec.owner, after.spec.unique_key);
    if (is_new && HoldsUniqueKey(after)) sink.Put(key, id);
    if (!is_new && HoldsUniqueKey(before) && !HoldsUniqueKey(after)) sink.Delete(key);
  }
  // A lease only when it moves: a running job's progress or log line
  // without a new lease leaves it as it is.
  auto lease = [](const JobView& j) {
    return j.status == JobStatus::kRunning ? j.lease_deadline : std::nullopt;
  };
  if (const auto old_lease = lease(before), new_lease = lease(after); old_lease != new_lease) {
    sink.LeaseChanged(id, new_lease);
  }
}

void RemoveJobRows(const JobView& job, RowSink& sink) {
  const std::string& id = job.job_id;
  auto remove = [&](std::string_view dim, std::string_view value, char sort, Millis ts) {
    const uint64_t pos = sort == 'c' ? job.created_position : job.last_position;
    sink.Delete(vk::IndexKey(dim, value, sort, ts, pos, id));
  };
  const std::pair<std::string_view, std::string_view> dims[] = {
      {vk::kDimAll, ""},
      {vk::kDimType, job.spec.type},
      {vk::kDimQueue, job.spec.queue},
      {vk::kDimOwner, job.spec.owner},
      {vk::kDimExternalRef, job.spec.external_ref},
      {vk::kDimStatus, StatusName(job.status)}};
  for (const auto& [dim, value] : dims) {
    if (dim != vk::kDimAll && value.empty()) continue;
    remove(dim, value, 'c', job.created_at);
    sink.Count(vk::CountKey(dim, value), -1);
  }
  CountByStatus(job, -1, sink);
  remove(vk::kDimStatus, StatusName(job.status), 'u', job.updated_at);
  if (job.status == JobStatus::kPending) {
    sink.Delete(vk::ClaimKey(job.spec.queue, job.spec.priority,
                             job.spec.run_at.value_or(job.created_at), id));
  } else if (job.status == JobStatus::kRetrying) {
    sink.Delete(vk::ClaimKey(job.spec.queue, job.spec.priority,
                             job.next_retry_at.value_or(job.updated_at), id));
  }
  if (job.status == JobStatus::kPending || job.status == JobStatus::kRetrying) {
    sink.ClaimChanged(job.spec.queue, {id, 0, 0, 0}, true);
  }
  if (HoldsUniqueKey(job)) {
    sink.Delete(vk::UniqueKey(job.spec.owner, job.spec.unique_key));
  }
  if (job.status == JobStatus::kRunning && job.lease_deadline) sink.LeaseChanged(id, std::nullopt);
  for (uint64_t seq = 1; seq <= job.log_count; ++seq) sink.Delete(vk::LogKey(id, seq));
  sink.Delete(vk::JobKey(id));
}

}  // namespace jobtrail

// JobStore's schedules: the book of definitions plus the runs they enqueue.
#include <fmt/format.h>

#include "projections/rocks_job_store.h"

namespace jobtrail {

Result<ScheduleView> RocksJobStore::ViewOf(Schedule schedule) {
  ListQuery running;
  running.statuses = {JobStatus::kRunning};
  running.type = schedule.spec.job_type;
  running.limit = 1;
  BOOST_OUTCOME_TRY(page, List(running));
  return ScheduleView{std::move(schedule), !page.items_json.empty()};
}

Result<std::vector<ScheduleView>> RocksJobStore::ListSchedules() {
  std::vector<ScheduleView> out;
  for (auto& s : schedules_->List()) {
    BOOST_OUTCOME_TRY(view, ViewOf(std::move(s)));
    out.push_back(std::move(view));
  }
  return out;
}

Result<ScheduleView> RocksJobStore::GetSchedule(std::string_view name) {
  BOOST_OUTCOME_TRY(s, schedules_->Get(name));
  return ViewOf(std::move(s));
}

Result<ScheduleView> RocksJobStore::PutSchedule(ScheduleSpec spec) {
  BOOST_OUTCOME_TRY(s, schedules_->Put(std::move(spec), clock_->Now()));
  return ViewOf(std::move(s));
}

Result<void> RocksJobStore::DeleteSchedule(std::string_view name) {
  return schedules_->Remove(name);
}

Result<WriteOutcome> RocksJobStore::EnqueueRun(const Schedule& schedule, const std::string& actor,
                                               const std::string& idempotency_key,
                                               const std::string& trigger) {
  EnqueueRequest run;
  run.spec.type = schedule.spec.job_type;
  run.spec.queue = schedule.spec.queue;
  run.spec.payload_json = schedule.spec.payload_json.empty() ? "{}" : schedule.spec.payload_json;
  run.spec.max_attempts = schedule.spec.max_attempts;
  run.spec.labels = {{"schedule", schedule.spec.name}, {"trigger", trigger}};
  run.spec.idempotency_key = idempotency_key;
  run.actor = actor;
  return Enqueue(std::move(run));
}

Result<WriteOutcome> RocksJobStore::TriggerSchedule(std::string_view name,
                                                    const std::string& actor) {
  BOOST_OUTCOME_TRY(s, schedules_->Get(name));
  return EnqueueRun(s, actor.empty() ? "api" : actor, "", "manual");
}

Result<size_t> RocksJobStore::RunDueSchedules() {
  const Millis now = clock_->Now();
  size_t fired = 0;
  for (const auto& [schedule, fire_time] : schedules_->Due(now)) {
    // The key makes the run once-only even if we crash before MarkFired.
    const std::string key = fmt::format("schedule:{}:{}", schedule.spec.name, fire_time);
    BOOST_OUTCOME_TRY(out, EnqueueRun(schedule, "system", key, "schedule"));
    BOOST_OUTCOME_TRYV(schedules_->MarkFired(schedule.spec.name, fire_time, now, out.job_id));
    if (!out.duplicate) ++fired;
  }
  return fired;
}

}  // namespace jobtrail

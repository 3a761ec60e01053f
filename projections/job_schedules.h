#pragma once
// JobSchedules: recurring jobs (projections/schedule_book.h) as the store
// (JobStore, job_store.h) serves them: list, get, put, delete, trigger, and
// the firing of due schedules by the clock. What the schedule routes and
// `serve`'s ticker need.
// Thread-safe: every method may be called from any thread.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "domain/error.h"
#include "projections/job_commands.h"
#include "projections/schedule_book.h"

namespace jobtrail {

struct ScheduleView {
  Schedule schedule;
  bool running = false;  // a job of the schedule's type is running now
};

class JobSchedules {
 public:
  virtual ~JobSchedules() = default;

  // Schedules (projections/schedule_book.h). Errors: kInvalidArgument,
  // kNotFound/SCHEDULE_NOT_FOUND.
  virtual Result<std::vector<ScheduleView>> ListSchedules() = 0;
  virtual Result<ScheduleView> GetSchedule(std::string_view name) = 0;
  virtual Result<ScheduleView> PutSchedule(ScheduleSpec spec) = 0;
  virtual Result<void> DeleteSchedule(std::string_view name) = 0;
  // Enqueues a run of the schedule's job type now (labelled trigger=manual).
  virtual Result<WriteOutcome> TriggerSchedule(std::string_view name,
                                               const std::string& actor) = 0;
  // Fires every schedule that is due by the clock (actor "system"); returns
  // how many runs were enqueued.
  virtual Result<size_t> RunDueSchedules() = 0;
};

}  // namespace jobtrail

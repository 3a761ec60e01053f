#pragma once
// Named periodic job types (cron + time zone), kept in
// <data-dir>/schedules.json. A schedule's definition is configuration, not
// history: it lives beside the log, written atomically (temp file, fsync,
// rename). What a schedule does is history: every run it fires is an
// enqueued event (actor "system") whose idempotency key names the schedule
// and the fire time, so a crash between firing and saving never fires twice.
//
// Thread-safe: every method takes the book's mutex.
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "domain/cron_expression.h"
#include "domain/error.h"
#include "domain/job_event.h"

namespace jobtrail {

enum class CatchUp {
  kOnce,  // runs missed while the server was down fire once, at start
  kSkip,  // missed runs are skipped; the next one is the next in the future
};

struct ScheduleSpec {
  std::string name;          // [A-Za-z0-9_.-], 1..128
  std::string display_name;  // e.g. seed 001's "ExpireServers"; default name
  std::string cron;          // 5 fields or a macro (domain/cron_expression.h)
  std::string time_zone = "UTC";
  std::string job_type;  // default: name
  std::string queue = "default";
  std::string payload_json;  // empty: {}
  int32_t max_attempts = 1;
  CatchUp catch_up = CatchUp::kOnce;
};

struct Schedule {
  ScheduleSpec spec;
  std::optional<Millis> next_run_at;  // the next fire time not yet fired
  std::optional<Millis> last_fired_at;
  std::string last_job_id;
};

class ScheduleBook {
 public:
  // Loads the book from `path` (missing file: empty). Errors: kDataLoss for
  // a file that does not parse.
  static Result<std::unique_ptr<ScheduleBook>> Open(const std::string& path, Millis now);

  std::vector<Schedule> List() const;
  Result<Schedule> Get(std::string_view name) const;
  // Creates or replaces; the next run is computed from `now`.
  // Errors: kInvalidArgument (bad name, cron, zone, catch-up).
  Result<Schedule> Put(ScheduleSpec spec, Millis now);
  Result<void> Remove(std::string_view name);  // kNotFound/SCHEDULE_NOT_FOUND

  // Schedules whose next run is due at `now`, with the fire time each is
  // due for. MarkFired then moves each past `now`.
  std::vector<std::pair<Schedule, Millis>> Due(Millis now) const;
  Result<void> MarkFired(std::string_view name, Millis fired_for, Millis now,
                         const std::string& job_id);

 private:
  explicit ScheduleBook(std::string path) : path_(std::move(path)) {}
  Result<void> SaveLocked() const;

  std::string path_;
  mutable std::mutex mu_;
  std::vector<Schedule> schedules_;  // GUARDED_BY(mu_), sorted by name
};

std::string_view CatchUpName(CatchUp c);
std::optional<CatchUp> ParseCatchUp(std::string_view name);

}  // namespace jobtrail

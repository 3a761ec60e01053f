#pragma once
// Named periodic job types (cron + time zone). A schedule's definition is
// configuration, not history: it lives in the node's configuration store
// (config/config_store.h) — schedules.json in the data directory, or, for
// nodes on a shared PostgreSQL log, one document every node reads — and is
// changed by atomic read-modify-writes of that document, so two nodes'
// changes never overwrite each other. What a schedule does is history:
// every run it fires is an enqueued event (actor "system") whose
// idempotency key names the schedule and the fire time, so a crash between
// firing and marking, or two nodes firing the same run, never enqueues twice.
//
// Every read re-checks the document's version (a stat, or a one-row read in
// PostgreSQL) and re-reads it when it moved: a schedule put or deleted
// through any node is what the next read on every node sees.
//
// Catch-up after downtime is applied to this node's copy only, relative to
// when the book was opened: a kSkip schedule whose next run was due before
// then moves to its next future run. It is not written back, so a node
// starting beside running ones never makes them skip a run.
//
// Thread-safe.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "eventstore/config/cached_doc.h"
#include "eventstore/config/config_store.h"
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
  // Loads the book from `store` (no document yet: empty). Errors: kDataLoss
  // for a document that does not parse, the store's errors.
  static Result<std::unique_ptr<ScheduleBook>> Open(std::shared_ptr<config::ConfigStore> store,
                                                    Millis now);

  std::vector<Schedule> List() const;
  Result<Schedule> Get(std::string_view name) const;
  // Creates or replaces; the next run is computed from `now`.
  // Errors: kInvalidArgument (bad name, cron, zone, catch-up).
  Result<Schedule> Put(ScheduleSpec spec, Millis now);
  Result<void> Remove(std::string_view name);  // kNotFound/SCHEDULE_NOT_FOUND

  // Schedules whose next run is due at `now`, with the fire time each is
  // due for. MarkFired then moves each past `now` (unless another node
  // already did).
  std::vector<std::pair<Schedule, Millis>> Due(Millis now) const;
  Result<void> MarkFired(std::string_view name, Millis fired_for, Millis now,
                         const std::string& job_id);

 private:
  using Schedules = std::vector<Schedule>;  // sorted by name
  explicit ScheduleBook(std::shared_ptr<config::ConfigStore> store, Millis opened_at);
  // Changes the stored document: `edit` gets it as stored (no catch-up
  // applied) and edits it in place, or returns an error (nothing written).
  Result<void> Edit(const std::function<Result<bool>(Schedules&)>& edit);
  std::shared_ptr<const Schedules> Current() const;

  Millis opened_at_;
  mutable config::CachedDoc<Schedules> doc_;
};
std::string_view CatchUpName(CatchUp c);
std::optional<CatchUp> ParseCatchUp(std::string_view name);

}  // namespace jobtrail
